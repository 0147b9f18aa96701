/**
 * Token estimate reserved at admission, before the real usage is known: prompt characters / 4 plus the requested
 * output budget (`max_tokens` and its per-surface names), capped so one huge `max_tokens` does not block a tenant.
 * Settling with the real usage corrects it when the answer ends.
 */
import type { Call } from '../call/call.js';
import { isRecord } from '../protocols/common/json.js';

/** Output tokens assumed when the request sets no maximum. */
export const DEFAULT_OUTPUT_ESTIMATE = 256;
/** Most output tokens reserved for one request. */
export const MAX_OUTPUT_ESTIMATE = 4096;

export interface TokenEstimate {
  input: number;
  output: number;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);

function requestedMaxOutput(body: Readonly<Record<string, unknown>>): number | undefined {
  const options = isRecord(body.options) ? body.options : undefined;
  return (
    num(body.max_completion_tokens) ?? num(body.max_tokens) ?? num(body.max_output_tokens) ?? num(options?.num_predict)
  );
}

function promptChars(call: Call): number {
  if (call.prompt !== undefined) return call.prompt.length;
  const b: Readonly<Record<string, unknown>> = call.request.body;
  let n = 0;
  for (const field of ['system', 'instructions', 'messages', 'prompt', 'input', 'tools', 'query', 'documents']) {
    const v = b[field];
    if (v !== undefined) n += typeof v === 'string' ? v.length : JSON.stringify(v).length;
  }
  return n;
}

/** Estimated input and output tokens of `call`. */
export function estimateTokens(call: Call): TokenEstimate {
  // Counting tokens generates nothing and is not billed: it does not count against token limits.
  const op = call.request.operation;
  if (op === 'count_tokens') return { input: 0, output: 0 };
  const input = Math.ceil(promptChars(call) / 4);
  if (op === 'embeddings' || op === 'ollama_embed' || op === 'rerank') return { input, output: 0 };
  const max = requestedMaxOutput(call.request.body);
  return { input, output: Math.min(Math.ceil(max ?? DEFAULT_OUTPUT_ESTIMATE), MAX_OUTPUT_ESTIMATE) };
}
