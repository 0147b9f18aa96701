/**
 * The names everything about protocols is keyed by: the operations the client surfaces serve, and the wire protocols
 * upstreams speak. A new operation is one more entry in OPERATION_SURFACE; the tables keyed by
 * operation (clients.ts, adapters.ts) then fail to compile until its rows are written.
 */
import type { Provider } from '../../../shared/src/api/v1alpha1/index.js';

/** Every operation, with the client surface (the client API a request came in on) that serves it. */
export const OPERATION_SURFACE = {
  chat: 'openai',
  completions: 'openai',
  embeddings: 'openai',
  rerank: 'openai',
  responses: 'openai',
  messages: 'anthropic',
  count_tokens: 'anthropic',
  ollama_chat: 'ollama',
  ollama_generate: 'ollama',
  ollama_embed: 'ollama',
} as const;

/** What the proxy runs for a request: one client API operation (it names its surface too). */
export type Operation = keyof typeof OPERATION_SURFACE;

/** A client-facing API surface. */
export type SurfaceName = (typeof OPERATION_SURFACE)[Operation];

/** The operations of surface `S`. */
export type OperationOf<S extends SurfaceName> = {
  [O in Operation]: (typeof OPERATION_SURFACE)[O] extends S ? O : never;
}[Operation];

/** Wire protocols upstreams speak; several provider kinds share one (vllm, llamacpp, openai → openai). */
export type Protocol = 'openai' | 'anthropic' | 'ollama';

/** Which wire protocol each provider kind speaks. */
export const PROTOCOL_OF: Record<Provider, Protocol> = {
  'openai-compatible': 'openai',
  vllm: 'openai',
  llamacpp: 'openai',
  openai: 'openai',
  anthropic: 'anthropic',
  ollama: 'ollama',
};

/** A table with `f(op)` for every operation (exhaustive by type: a new operation is a compile error here). */
export function perOperation<T>(f: (op: Operation) => T): Record<Operation, T> {
  return {
    chat: f('chat'),
    completions: f('completions'),
    embeddings: f('embeddings'),
    rerank: f('rerank'),
    responses: f('responses'),
    messages: f('messages'),
    count_tokens: f('count_tokens'),
    ollama_chat: f('ollama_chat'),
    ollama_generate: f('ollama_generate'),
    ollama_embed: f('ollama_embed'),
  };
}
