/** Anthropic upstream request basics: paths and headers. */
import { z } from 'zod';
import type { AnswerShape } from '../openai/response.js';
import type { AdapterContext } from '../types.js';

/** `anthropic-version` sent upstream when the client did not send one. */
export const DEFAULT_ANTHROPIC_VERSION = '2023-06-01';

/** Paths relative to the backend URL (the API origin, e.g. `https://api.anthropic.com`). */
/** Paths under the backend's base URL (`https://api.anthropic.com/v1`; a bare origin gets `/v1`). */
export const ANTHROPIC_PATHS = { messages: '/messages', countTokens: '/messages/count_tokens' } as const;

/** What each Anthropic answer must carry (non-streamed). */
export const ANTHROPIC_ANSWER = {
  messages: z.looseObject({ type: z.string(), content: z.array(z.looseObject({ type: z.string() })) }),
  countTokens: z.looseObject({ input_tokens: z.number() }),
} satisfies Record<string, AnswerShape>;

/** Headers for an Anthropic upstream: JSON, `x-api-key`, `anthropic-version` (and `anthropic-beta`) from the client. */
export function anthropicHeaders(ctx: AdapterContext, stream: boolean): Record<string, string> {
  const h: Record<string, string> = { ...ctx.backend.headers, 'content-type': 'application/json' };
  h.accept = stream ? 'text/event-stream' : 'application/json';
  h['anthropic-version'] = ctx.header?.('anthropic-version') ?? DEFAULT_ANTHROPIC_VERSION;
  const beta = ctx.header?.('anthropic-beta');
  if (beta) h['anthropic-beta'] = beta;
  if (ctx.backend.apiKey !== undefined) h['x-api-key'] = ctx.backend.apiKey;
  return h;
}
