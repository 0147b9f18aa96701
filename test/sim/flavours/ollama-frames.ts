/**
 * Ollama wire format: NDJSON (`application/x-ndjson`), one JSON object per line; partial objects have
 * `done:false`, the last has `done:true`, `done_reason` and durations in nanoseconds. Tool calls arrive whole
 * (`message.tool_calls[].function.arguments` is an object), one call per line. With `think`, the reasoning comes
 * first, one line per token with empty content and `message.thinking` (`/api/generate`: top-level `thinking`).
 */
import type { Exchange } from '../exchange.js';
import type { OutputPlan } from '../output.js';
import type { FramePlan } from '../stream.js';

/** One Ollama answer. */
export interface OllamaAnswer {
  kind: 'chat' | 'generate';
  model: string;
  plan: OutputPlan;
  promptTokens: number;
  outputTokens: number;
  /** Cold-load time, ms. */
  loadMs: number;
  ex: Exchange;
}

const now = () => new Date().toISOString();
const ns = (ms: number) => Math.max(0, Math.round(ms * 1e6));

function doneReason(plan: OutputPlan): string {
  return plan.kind === 'text' && plan.finish === 'length' ? 'length' : 'stop';
}

function partial(a: OllamaAnswer, content: string, toolCalls?: unknown[], thinking = ''): Record<string, unknown> {
  const thought = thinking ? { thinking } : {};
  if (a.kind === 'generate') return { model: a.model, created_at: now(), response: content, ...thought, done: false };
  const message: Record<string, unknown> = { role: 'assistant', content, ...thought };
  if (toolCalls) message.tool_calls = toolCalls;
  return { model: a.model, created_at: now(), message, done: false };
}

/** The final object's fields (`done`, `done_reason`, counts and durations). */
function final(a: OllamaAnswer, content: string, toolCalls?: unknown[], thinking = ''): Record<string, unknown> {
  const end = performance.now();
  const start = a.ex.start;
  const first = a.ex.firstByteAt || end;
  const head = partial(a, content, toolCalls, thinking);
  const timing = {
    done: true,
    done_reason: doneReason(a.plan),
    total_duration: ns(end - start),
    load_duration: ns(a.loadMs),
    prompt_eval_count: a.promptTokens,
    prompt_eval_duration: ns(first - start - a.loadMs),
    eval_count: a.outputTokens,
    eval_duration: ns(end - first),
  };
  const context = a.kind === 'generate' ? { context: contextIds(a) } : {};
  return { ...head, ...context, ...timing };
}

/** Stand-in for the deprecated `context` token ids of `/api/generate`. */
function contextIds(a: OllamaAnswer): number[] {
  const n = Math.min(a.promptTokens + a.outputTokens, 4096);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = (i * 7919 + 13) % 128000;
  return out;
}

function toolCalls(plan: OutputPlan): { function: { name: string; arguments: Record<string, unknown> } }[] {
  return plan.kind === 'tools' ? plan.calls.map((c) => ({ function: { name: c.name, arguments: c.args } })) : [];
}

/** NDJSON lines of a streamed answer. */
export function ollamaFrames(a: OllamaAnswer): FramePlan {
  const plan = a.plan;
  const calls = toolCalls(plan);
  const r = plan.reasoning.length;
  return {
    steps: r + (plan.kind === 'tools' ? calls.length : plan.pieces.length),
    head: () => '',
    step(i) {
      const obj =
        i < r
          ? partial(a, '', undefined, plan.reasoning[i])
          : plan.kind === 'tools'
            ? partial(a, '', [calls[i - r]])
            : partial(a, plan.pieces[i - r]!);
      return `${JSON.stringify(obj)}\n`;
    },
    tail: () => `${JSON.stringify(final(a, ''))}\n`,
    error: () => '{"error":"an error was encountered while running the model: unexpected EOF"}\n',
  };
}

/** Body of a non-streaming answer. */
export function ollamaBody(a: OllamaAnswer): string {
  const plan = a.plan;
  const thinking = plan.reasoning.join('');
  if (plan.kind === 'tools') return JSON.stringify(final(a, '', toolCalls(plan), thinking));
  return JSON.stringify(final(a, plan.pieces.join(''), undefined, thinking));
}
