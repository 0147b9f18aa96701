/** OpenTelemetry GenAI semantic-convention names and values for the proxy's operations. */
import type { Attributes } from '@opentelemetry/api';
import type { Operation } from '../protocols/catalog.js';

/** `gen_ai.operation.name` of each client operation. */
export const GENAI_OPERATION: Record<Operation, string> = {
  chat: 'chat',
  completions: 'text_completion',
  embeddings: 'embeddings',
  rerank: 'rerank',
  responses: 'chat',
  messages: 'chat',
  count_tokens: 'count_tokens',
  ollama_chat: 'chat',
  ollama_generate: 'text_completion',
  ollama_embed: 'embeddings',
};

/** `gen_ai.provider.name` of a backend provider (well-known values where the convention has one). */
export function genaiProvider(provider: string): string {
  return provider === 'openai-compatible' ? 'openai_compatible' : provider;
}

const REQUEST_PARAMS: Array<[string, string]> = [
  ['max_tokens', 'gen_ai.request.max_tokens'],
  ['max_completion_tokens', 'gen_ai.request.max_tokens'],
  ['temperature', 'gen_ai.request.temperature'],
  ['top_p', 'gen_ai.request.top_p'],
  ['top_k', 'gen_ai.request.top_k'],
  ['seed', 'gen_ai.request.seed'],
  ['frequency_penalty', 'gen_ai.request.frequency_penalty'],
  ['presence_penalty', 'gen_ai.request.presence_penalty'],
];

/** Numeric sampling parameters of a request body as `gen_ai.request.*` attributes (never the prompt). */
export function requestParamAttributes(body: Record<string, unknown>): Attributes {
  const attrs: Attributes = {};
  for (const [field, attr] of REQUEST_PARAMS) {
    const v = body[field];
    if (typeof v === 'number' && Number.isFinite(v)) attrs[attr] = v;
  }
  return attrs;
}

const MAX_CONTENT_CHARS = 16_384;

/** The prompt part of a body as JSON (for `gen_ai.input.messages`, only when content capture is enabled). */
export function inputContent(body: Record<string, unknown>): string | undefined {
  const input = body.messages ?? body.prompt ?? body.input;
  if (input === undefined) return undefined;
  const system = body.system;
  const text = JSON.stringify(system === undefined ? input : { system, messages: input });
  return text.length > MAX_CONTENT_CHARS ? `${text.slice(0, MAX_CONTENT_CHARS)}…` : text;
}
