/**
 * OpenAI wire format of generated answers: `chat.completion(.chunk)` and `text_completion` objects, SSE framed as
 * `data: <json>\n\n` and terminated by `data: [DONE]\n\n`. One chunk per choice per token step; the first chunk of a
 * chat choice carries `delta.role`; tool call arguments arrive as fragments (first chunk of each call carries
 * id/type/name and `arguments:""`); after the finish chunks, a `choices:[]` chunk with `usage` when
 * `stream_options.include_usage` is true. A reasoning model's reasoning comes first, in the server's own field:
 * vLLM `reasoning` (its name since 0.11; `reasoning_content` is gone), llama.cpp `reasoning_content` (or inline
 * in `<think>` tags with `reasoning_format: none`).
 */
import type { OutputPlan } from '../output.js';
import type { FramePlan } from '../stream.js';
import { llamacppTimings } from './llamacpp-resources.js';
import type { OpenAIDialect } from './openai-dialect.js';

/** Everything the frames of one answer need. */
export interface OpenAIAnswer {
  kind: 'chat' | 'completion';
  id: string;
  created: number;
  model: string;
  dialect: OpenAIDialect;
  plans: OutputPlan[];
  promptTokens: number;
  /** Prompt tokens found in the prefix cache. */
  cachedTokens: number;
  completionTokens: number;
  includeUsage: boolean;
  /** llama.cpp `reasoning_format: none`: reasoning stays in the content, between `<think>` tags. */
  reasoningInline?: boolean;
}

/** The message field a server writes reasoning in. */
const reasoningField = (d: OpenAIDialect) => (d.name === 'vllm' ? 'reasoning' : 'reasoning_content');

/** A plan's reasoning pieces as inline `<think>` text (llama.cpp `reasoning_format: none`). */
function inlineThinking(reasoning: readonly string[]): string[] {
  if (reasoning.length === 0) return [];
  return reasoning.map(
    (p, i) => `${i === 0 ? '<think>\n' : ''}${p}${i === reasoning.length - 1 ? '\n</think>\n\n' : ''}`,
  );
}

/** Delta JSON of a chat plan's reasoning steps. */
function reasoningSteps(a: OpenAIAnswer, plan: OutputPlan): string[] {
  if (a.reasoningInline) return inlineThinking(plan.reasoning).map((p) => `{"content":${JSON.stringify(p)}}`);
  const field = reasoningField(a.dialect);
  return plan.reasoning.map((p) => `{"${field}":${JSON.stringify(p)}}`);
}

/** Usage object (`prompt_tokens_details` etc. only where the real server sends them). */
export function usageJson(a: OpenAIAnswer): string {
  const p = a.promptTokens;
  const c = a.completionTokens;
  const base = `"prompt_tokens":${p},"completion_tokens":${c},"total_tokens":${p + c}`;
  if (a.dialect.llamacppExtras) return `{${base},"prompt_tokens_details":{"cached_tokens":${a.cachedTokens}}}`;
  if (a.dialect.name !== 'openai') return `{${base}}`;
  return (
    `{${base},"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":` +
    '{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}'
  );
}

/** llama.cpp's `,"timings":{…}` member. */
function timingsMember(a: OpenAIAnswer): string {
  return `,"timings":${JSON.stringify(llamacppTimings(a.promptTokens, a.cachedTokens, a.completionTokens))}`;
}

function finishReason(plan: OutputPlan): string {
  return plan.kind === 'tools' ? 'tool_calls' : plan.finish;
}

/** Delta JSON of every token step of a chat plan's tool calls. */
function toolSteps(plan: Extract<OutputPlan, { kind: 'tools' }>): string[] {
  const out: string[] = [];
  plan.calls.forEach((call, index) => {
    out.push(
      `{"tool_calls":[{"index":${index},"id":"${call.id}","type":"function","function":{"name":${JSON.stringify(call.name)},"arguments":""}}]}`,
    );
    for (const f of call.fragments)
      out.push(`{"tool_calls":[{"index":${index},"function":{"arguments":${JSON.stringify(f)}}}]}`);
  });
  return out;
}

/** SSE frames of a streamed chat completion or completion. */
export function openaiFrames(a: OpenAIAnswer): FramePlan {
  const chat = a.kind === 'chat';
  const d = a.dialect;
  const fp = d.fingerprint ? `"system_fingerprint":"${d.fingerprint}",` : '';
  const object = chat ? 'chat.completion.chunk' : 'text_completion';
  const prefix = `data: {"id":"${a.id}","object":"${object}","created":${a.created},"model":${JSON.stringify(a.model)},${fp}"choices":[`;
  const suffix = `]${a.includeUsage && d.usageNullInChunks ? ',"usage":null' : ''}}\n\n`;
  // Chat: every token step's delta per choice (reasoning, then tool calls or text).
  const deltas = a.plans.map((p) =>
    chat
      ? [
          ...reasoningSteps(a, p),
          ...(p.kind === 'tools' ? toolSteps(p) : p.pieces.map((t) => `{"content":${JSON.stringify(t)}}`)),
        ]
      : null,
  );
  const stepsOf = (i: number) =>
    deltas[i]?.length ?? (a.plans[i] as Extract<OutputPlan, { kind: 'text' }>).pieces.length;
  let steps = 0;
  for (let i = 0; i < a.plans.length; i++) steps = Math.max(steps, stepsOf(i));
  const logprobs = chat && d.llamacppExtras ? '' : '"logprobs":null,';
  const choice = (c: number, body: string, finish: string | null, extra = '') =>
    `${prefix}{"index":${c},${body},${logprobs}"finish_reason":${finish ? `"${finish}"` : 'null'}}${suffix.slice(0, -3)}${extra}}\n\n`;
  return {
    steps,
    head() {
      if (!chat) return '';
      let s = '';
      for (let c = 0; c < a.plans.length; c++) {
        const content = a.plans[c]!.kind === 'tools' || d.name === 'llamacpp' ? 'null' : '""';
        const refusal = d.name === 'openai' ? ',"refusal":null' : '';
        s += choice(c, `"delta":{"role":"assistant","content":${content}${refusal}}`, null);
      }
      return s;
    },
    step(i) {
      let s = '';
      for (let c = 0; c < a.plans.length; c++) {
        const plan = a.plans[c]!;
        const steps = deltas[c];
        if (steps) {
          if (i < steps.length) s += choice(c, `"delta":${steps[i]}`, null);
        } else if (plan.kind === 'text' && i < plan.pieces.length)
          s += choice(c, `"text":${JSON.stringify(plan.pieces[i])}`, null);
      }
      return s;
    },
    tail() {
      // llama.cpp: timings on the last chunk (with usage too for completions); with include_usage, on the usage chunk.
      const last = a.plans.length - 1;
      const extra = (c: number) => {
        if (!d.llamacppExtras || c !== last) return '';
        if (!chat) return `,"usage":${usageJson(a)}${timingsMember(a)}`;
        return a.includeUsage ? '' : timingsMember(a);
      };
      let s = '';
      for (let c = 0; c < a.plans.length; c++)
        s += choice(c, chat ? '"delta":{}' : '"text":""', finishReason(a.plans[c]!), extra(c));
      if (a.includeUsage && (chat || !d.llamacppExtras))
        s += `${prefix}],"usage":${usageJson(a)}${d.llamacppExtras ? timingsMember(a) : ''}}\n\n`;
      return `${s}data: [DONE]\n\n`;
    },
    error() {
      const body = d.error(500, 'Internal server error during generation').body;
      return `data: ${body}\n\n${d.doneAfterError ? 'data: [DONE]\n\n' : ''}`;
    },
  };
}

/** Body of a non-streaming chat completion or completion. */
export function openaiBody(a: OpenAIAnswer): string {
  const d = a.dialect;
  const choices = a.plans.map((plan, index) => {
    const finish_reason = finishReason(plan);
    const vllm = d.name === 'vllm' ? { stop_reason: null } : {};
    if (a.kind === 'completion') {
      const text = plan.kind === 'text' ? plan.pieces.join('') : '';
      return { index, text, logprobs: null, finish_reason, ...vllm };
    }
    const message: Record<string, unknown> = { role: 'assistant' };
    const inline = a.reasoningInline ? inlineThinking(plan.reasoning).join('') : '';
    if (plan.kind === 'text') message.content = inline + plan.pieces.join('');
    else {
      message.content = null;
      message.tool_calls = plan.calls.map((c) => ({
        id: c.id,
        type: 'function',
        function: { name: c.name, arguments: c.json },
      }));
    }
    if (d.name === 'openai') Object.assign(message, { refusal: null, annotations: [] });
    if (d.name === 'vllm') {
      // Current vLLM serialises every ChatMessage field, refusal included.
      message.refusal = null;
      message.reasoning = null;
      message.tool_calls ??= [];
    }
    if (plan.reasoning.length > 0 && !a.reasoningInline) message[reasoningField(d)] = plan.reasoning.join('');
    return d.llamacppExtras
      ? { index, message, finish_reason }
      : { index, message, logprobs: null, finish_reason, ...vllm };
  });
  const head = {
    id: a.id,
    object: a.kind === 'chat' ? 'chat.completion' : 'text_completion',
    created: a.created,
    model: a.model,
    ...(d.fingerprint ? { system_fingerprint: d.fingerprint } : {}),
    choices,
  };
  const json = JSON.stringify(head);
  return `${json.slice(0, -1)},"usage":${usageJson(a)}${d.llamacppExtras ? timingsMember(a) : ''}}`;
}
