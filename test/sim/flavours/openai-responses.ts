/**
 * `POST /v1/responses` of servers that serve the Responses API themselves (vLLM 0.34, api.openai.com): the create
 * request (string or item input, `instructions`, function tools, `tool_choice`, `max_output_tokens`), answered as a
 * `response` object, or streamed as typed events with `sequence_number`s: `response.created`,
 * `response.in_progress`, per item `response.output_item.added` … `response.output_item.done` (text through
 * `response.content_part.added`, `response.output_text.delta`/`.done`, `response.content_part.done`; calls through
 * `response.function_call_arguments.delta`/`.done`), then `response.completed` (`response.incomplete` when
 * `max_output_tokens` cut it). An in-stream error is an `error` event. No `[DONE]`. A reasoning model (vLLM with a
 * reasoning parser) answers with a `reasoning` item first (`reasoning_text` content, streamed as
 * `response.reasoning_text.delta`/`.done`); OpenAI keeps its reasoning hidden.
 */
import type { Exchange } from '../exchange.js';
import { admitGeneration } from '../generation.js';
import type { OutputPlan, ToolChoice, ToolSpec } from '../output.js';
import type { FramePlan } from '../stream.js';
import { runStream, runUnary } from '../stream.js';
import { randomHex, randomId } from '../tokens.js';
import type { OpenAIDialect } from './openai-dialect.js';
import { resolveModel } from './openai-resources.js';
import { chatPrompt, contentText, isOptionalPositiveInt, isRecord, type Json } from './prompt.js';

/** The input items as chat-like messages for the canonical prompt (calls and their outputs as text). */
function messagesOf(input: unknown): Json[] | null {
  if (typeof input === 'string') return [{ role: 'user', content: input }];
  if (!Array.isArray(input) || input.length === 0) return null;
  const out: Json[] = [];
  for (const item of input) {
    if (!isRecord(item)) return null;
    const type = item.type ?? 'message';
    if (type === 'message') out.push({ role: String(item.role ?? 'user'), content: item.content });
    else if (type === 'function_call')
      out.push({ role: 'assistant', content: `${String(item.name)}(${String(item.arguments)})` });
    else if (type === 'function_call_output') out.push({ role: 'tool', content: contentText(item.output) });
    else if (type === 'reasoning') continue;
    else return null;
  }
  return out;
}

function toolsOf(v: unknown): ToolSpec[] | null {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) return null;
  const out: ToolSpec[] = [];
  for (const t of v) {
    if (!isRecord(t) || t.type !== 'function' || typeof t.name !== 'string') return null;
    out.push({ name: t.name, schema: t.parameters ?? {} });
  }
  return out;
}

function toolChoiceOf(v: unknown): ToolChoice | null {
  if (v === undefined || v === null || v === 'auto') return 'auto';
  if (v === 'none' || v === 'required') return v;
  if (isRecord(v) && v.type === 'function' && typeof v.name === 'string') return { name: v.name };
  return null;
}

/** Everything the answer of one request needs. */
interface Answer {
  body: Json;
  model: string;
  plan: OutputPlan;
  promptTokens: number;
  cachedTokens: number;
  completionTokens: number;
  messageId: string;
  reasoningId: string;
}

function outputItems(a: Answer): Json[] {
  const thought = a.plan.reasoning.length ? [reasoning(a.reasoningId, a.plan.reasoning.join(''), 'completed')] : [];
  if (a.plan.kind === 'text') return [...thought, message(a.messageId, a.plan.pieces.join(''), 'completed')];
  return [...thought, ...a.plan.calls.map((c) => call(c.id, c.name, c.json, 'completed'))];
}

function reasoning(id: string, text: string, status: string): Json {
  const content = status === 'completed' ? [{ type: 'reasoning_text', text }] : [];
  return { id, type: 'reasoning', summary: [], content, encrypted_content: null, status };
}

function message(id: string, text: string, status: string): Json {
  const content = status === 'completed' ? [{ type: 'output_text', text, annotations: [], logprobs: [] }] : [];
  return { id, type: 'message', status, role: 'assistant', content };
}

function call(callId: string, name: string, args: string, status: string): Json {
  return { id: `fc_${callId}`, type: 'function_call', status, call_id: callId, name, arguments: args };
}

function responseObject(a: Answer, id: string, created: number, status: string, output: Json[]): Json {
  const b = a.body;
  const done = status !== 'in_progress';
  const cut = a.plan.kind === 'text' && a.plan.finish === 'length';
  return {
    id,
    object: 'response',
    created_at: created,
    status,
    background: false,
    completed_at: status === 'completed' ? Math.floor(Date.now() / 1000) : null,
    error: null,
    incomplete_details: done && cut ? { reason: 'max_output_tokens' } : null,
    instructions: b.instructions ?? null,
    max_output_tokens: b.max_output_tokens ?? null,
    model: a.model,
    output,
    parallel_tool_calls: b.parallel_tool_calls ?? true,
    previous_response_id: null,
    reasoning: { effort: isRecord(b.reasoning) ? (b.reasoning.effort ?? null) : null, summary: null },
    store: b.store ?? true,
    temperature: b.temperature ?? 1,
    text: { format: { type: 'text' } },
    tool_choice: b.tool_choice ?? 'auto',
    tools: Array.isArray(b.tools)
      ? b.tools.map((t) => (isRecord(t) ? { strict: null, parameters: null, ...t } : t))
      : [],
    top_p: b.top_p ?? 1,
    truncation: 'disabled',
    usage: done
      ? {
          input_tokens: a.promptTokens,
          input_tokens_details: { cached_tokens: a.cachedTokens, cache_write_tokens: 0 },
          output_tokens: a.completionTokens,
          output_tokens_details: { reasoning_tokens: a.plan.reasoning.length },
          total_tokens: a.promptTokens + a.completionTokens,
        }
      : null,
    metadata: isRecord(b.metadata) ? b.metadata : {},
  };
}

/** The typed event stream of one answer, laid out once so sequence numbers follow the order of writing. */
function responseFrames(a: Answer, id: string, created: number): FramePlan {
  let seq = 0;
  const ev = (type: string, fields: Json) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...fields })}\n\n`;
  let head = ev('response.created', { response: responseObject(a, id, created, 'in_progress', []) });
  head += ev('response.in_progress', { response: responseObject(a, id, created, 'in_progress', []) });
  const steps: string[] = [];
  let tail = '';
  const plan = a.plan;
  // The reasoning item's closing events ride on the first step after it (or the tail).
  let pending = '';
  const first = plan.reasoning.length ? 1 : 0;
  if (first) {
    const at = { item_id: a.reasoningId, output_index: 0, content_index: 0 };
    head += ev('response.output_item.added', { output_index: 0, item: reasoning(a.reasoningId, '', 'in_progress') });
    for (const p of plan.reasoning) steps.push(ev('response.reasoning_text.delta', { ...at, delta: p }));
    const text = plan.reasoning.join('');
    pending += ev('response.reasoning_text.done', { ...at, text });
    pending += ev('response.output_item.done', { output_index: 0, item: reasoning(a.reasoningId, text, 'completed') });
  }
  const withPending = (s: string) => {
    const out = pending + s;
    pending = '';
    return out;
  };
  if (plan.kind === 'text') {
    const at = { item_id: a.messageId, output_index: first, content_index: 0 };
    const opening =
      ev('response.output_item.added', { output_index: first, item: message(a.messageId, '', 'in_progress') }) +
      ev('response.content_part.added', {
        ...at,
        part: { type: 'output_text', text: '', annotations: [], logprobs: [] },
      });
    if (first) pending += opening;
    else head += opening;
    for (const p of plan.pieces)
      steps.push(withPending(ev('response.output_text.delta', { ...at, delta: p, logprobs: [] })));
    const text = plan.pieces.join('');
    tail += withPending(ev('response.output_text.done', { ...at, text, logprobs: [] }));
    tail += ev('response.content_part.done', {
      ...at,
      part: { type: 'output_text', text, annotations: [], logprobs: [] },
    });
    tail += ev('response.output_item.done', {
      output_index: first,
      item: message(a.messageId, text, 'completed'),
    });
  } else {
    plan.calls.forEach((c, i) => {
      const at = { item_id: `fc_${c.id}`, output_index: first + i };
      const item = call(c.id, c.name, '', 'in_progress');
      steps.push(withPending(ev('response.output_item.added', { output_index: first + i, item })));
      for (const f of c.fragments) steps.push(ev('response.function_call_arguments.delta', { ...at, delta: f }));
    });
    tail += withPending('');
    plan.calls.forEach((c, i) => {
      const at = { item_id: `fc_${c.id}`, output_index: first + i };
      tail += ev('response.function_call_arguments.done', { ...at, name: c.name, arguments: c.json });
      tail += ev('response.output_item.done', {
        output_index: first + i,
        item: call(c.id, c.name, c.json, 'completed'),
      });
    });
  }
  const cut = plan.kind === 'text' && plan.finish === 'length';
  const final = responseObject(a, id, created, cut ? 'incomplete' : 'completed', outputItems(a));
  tail += ev(cut ? 'response.incomplete' : 'response.completed', { response: final });
  return {
    steps: steps.length,
    head: () => head,
    step: (i) => steps[i] ?? '',
    tail: () => tail,
    error: () => ev('error', { code: 'server_error', message: 'Internal server error during generation', param: null }),
  };
}

/** The request turns the chat template's thinking off (`chat_template_kwargs.enable_thinking: false`). */
const thinkingOff = (b: Json) => isRecord(b.chat_template_kwargs) && b.chat_template_kwargs.enable_thinking === false;

/** Serves `POST /v1/responses`. */
export async function responses(ex: Exchange, d: OpenAIDialect): Promise<void> {
  const b = ex.body;
  if (!isRecord(b)) return ex.error(400, 'The request body must be a JSON object.');
  const model = resolveModel(ex, d, b.model);
  if (model === null) return;
  const messages = messagesOf(b.input);
  if (!messages) return ex.error(400, "Invalid 'input': a string or a non-empty list of input items.", 'input');
  if (!isOptionalPositiveInt(b.max_output_tokens))
    return ex.error(400, "Invalid 'max_output_tokens': must be a positive integer.", 'max_output_tokens');
  const tools = toolsOf(b.tools);
  const toolChoice = toolChoiceOf(b.tool_choice);
  if (!tools || !toolChoice) return ex.error(400, 'Invalid tools or tool_choice.', tools ? 'tool_choice' : 'tools');
  const stream = b.stream === true;
  const type = d.name === 'vllm' || d.name === 'openai' ? 'text/event-stream; charset=utf-8' : 'text/event-stream';
  const last = messages[messages.length - 1];
  const gen = await admitGeneration(
    ex,
    {
      prompt: chatPrompt(messages, b.tools, typeof b.instructions === 'string' ? b.instructions : undefined),
      maxTokens: (b.max_output_tokens as number | null | undefined) ?? undefined,
      stop: [],
      tools,
      toolChoice,
      lastFromUser: last?.role === 'user',
      choices: 1,
      toolIdPrefix: 'call_',
      reasoning: d.name === 'vllm' && ex.rt.opts.reasoning && !thinkingOff(b),
    },
    model,
    stream ? type : null,
  );
  if (!gen) return;
  const plan = gen.plans[0]!;
  const a: Answer = {
    body: b,
    model,
    plan,
    promptTokens: gen.promptTokens,
    cachedTokens: gen.lease.cachedTokens,
    completionTokens: gen.outputTokens,
    messageId: `msg_${randomHex(24)}`,
    reasoningId: `rs_${randomHex(24)}`,
  };
  const id = `resp_${d.name === 'openai' ? randomId(40) : randomHex(32)}`;
  const created = Math.floor(Date.now() / 1000);
  if (stream) await runStream(ex, gen, type, responseFrames(a, id, created));
  else
    await runUnary(ex, gen, () => {
      const cut = plan.kind === 'text' && plan.finish === 'length';
      return JSON.stringify(responseObject(a, id, created, cut ? 'incomplete' : 'completed', outputItems(a)));
    });
}
