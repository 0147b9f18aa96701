/** Ollama upstream request basics: paths and headers. */
import { z } from 'zod';
import type { AnswerShape } from '../openai/response.js';
import type { AdapterContext } from '../types.js';

/** Paths relative to the backend URL (the Ollama origin, e.g. `http://ollama:11434`). */
export const OLLAMA_PATHS = {
  chat: '/api/chat',
  generate: '/api/generate',
  embed: '/api/embed',
  embeddings: '/api/embeddings',
  version: '/api/version',
} as const;

/** What each Ollama answer must carry (non-streamed). */
export const OLLAMA_ANSWER = {
  chat: z.looseObject({ message: z.looseObject({ content: z.string().optional() }) }),
  generate: z.looseObject({ response: z.string() }),
  embed: z.looseObject({ embeddings: z.array(z.array(z.number())) }),
  embeddings: z.looseObject({ embedding: z.array(z.number()) }),
} satisfies Record<string, AnswerShape>;

/** Headers for an Ollama upstream: JSON, and a bearer credential when one is configured (Ollama behind a proxy). */
export function ollamaHeaders(ctx: AdapterContext, stream: boolean): Record<string, string> {
  const h: Record<string, string> = { ...ctx.backend.headers, 'content-type': 'application/json' };
  h.accept = stream ? 'application/x-ndjson' : 'application/json';
  if (ctx.backend.apiKey !== undefined) h.authorization = `Bearer ${ctx.backend.apiKey}`;
  return h;
}
