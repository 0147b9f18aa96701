/** Headers of every request to an Anthropic upstream. */
import type { AttemptContext } from '../types.js';

/** `anthropic-version` sent upstream when the client did not send one. */
export const DEFAULT_ANTHROPIC_VERSION = '2023-06-01';

/**
 * Headers for an Anthropic upstream: JSON, `x-api-key`, and `anthropic-version` (and `anthropic-beta`) from the
 * client when `ctx.header` reads the client's headers (native pass-through), else the default version.
 */
export function anthropicHeaders(
  ctx: Pick<AttemptContext, 'backend'> & Partial<Pick<AttemptContext, 'header'>>,
  stream: boolean,
): Record<string, string> {
  const h: Record<string, string> = { ...ctx.backend.headers, 'content-type': 'application/json' };
  h.accept = stream ? 'text/event-stream' : 'application/json';
  h['anthropic-version'] = ctx.header?.('anthropic-version') ?? DEFAULT_ANTHROPIC_VERSION;
  const beta = ctx.header?.('anthropic-beta');
  if (beta) h['anthropic-beta'] = beta;
  if (ctx.backend.apiKey !== undefined) h['x-api-key'] = ctx.backend.apiKey;
  return h;
}
