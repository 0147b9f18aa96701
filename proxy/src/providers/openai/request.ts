/** OpenAI-protocol upstream requests built from OpenAI-surface bodies (pass-through with model and usage set). */
import type { AdapterContext, UpstreamRequest } from '../types.js';

const PATHS: Partial<Record<AdapterContext['operation'], string>> = {
  chat: '/chat/completions',
  completions: '/completions',
  embeddings: '/embeddings',
};

/** Headers for an OpenAI-protocol upstream: JSON, bearer credential, the backend's extra headers. */
export function openAIHeaders(ctx: AdapterContext, stream: boolean): Record<string, string> {
  const h: Record<string, string> = { ...ctx.backend.headers, 'content-type': 'application/json' };
  h.accept = stream ? 'text/event-stream' : 'application/json';
  if (ctx.backend.apiKey !== undefined) h.authorization = `Bearer ${ctx.backend.apiKey}`;
  return h;
}

/**
 * The client's body with the upstream model name and, for streams, `stream_options.include_usage` forced on so
 * usage is counted (the usage chunk is stripped again when the client did not ask for it).
 */
export function buildOpenAIRequest(ctx: AdapterContext): UpstreamRequest {
  const body: Record<string, unknown> = { ...ctx.body, model: ctx.upstreamModel };
  if (ctx.stream && ctx.operation !== 'embeddings') {
    const so = typeof body.stream_options === 'object' && body.stream_options !== null ? body.stream_options : {};
    body.stream_options = { ...so, include_usage: true };
  }
  return {
    method: 'POST',
    path: PATHS[ctx.operation] ?? '/chat/completions',
    headers: openAIHeaders(ctx, ctx.stream),
    body: JSON.stringify(body),
  };
}
