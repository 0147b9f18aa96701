/** Paths and headers of requests to an Ollama upstream. */
import type { AttemptContext, UpstreamRequest } from '../types.js';

/** Paths relative to the backend URL (the Ollama origin, e.g. `http://ollama:11434`). */
export const OLLAMA_PATHS = {
  chat: '/api/chat',
  generate: '/api/generate',
  embed: '/api/embed',
  embeddings: '/api/embeddings',
  version: '/api/version',
} as const;

/** Headers for an Ollama upstream: JSON, and a bearer credential when one is configured (Ollama behind a proxy). */
export function ollamaHeaders(ctx: Pick<AttemptContext, 'backend'>, stream: boolean): Record<string, string> {
  const h: Record<string, string> = { ...ctx.backend.headers, 'content-type': 'application/json' };
  h.accept = stream ? 'application/x-ndjson' : 'application/json';
  if (ctx.backend.apiKey !== undefined) h.authorization = `Bearer ${ctx.backend.apiKey}`;
  return h;
}

/** A cheap request (the version) that checks the upstream serves. */
export const ollamaProbe = (ctx: AttemptContext): UpstreamRequest => ({
  method: 'GET',
  path: OLLAMA_PATHS.version,
  headers: ollamaHeaders(ctx, false),
});
