/** Error responses after upstream attempts say what the gateway did, like committed responses do (commit.ts). */

import type { RequestState } from '../env.js';
import { GatewayError } from '../errors.js';

/** `err` with x-switchyard-attempts / -endpoint / -fallback added, when at least one attempt was made. */
export function withAttemptHeaders(err: GatewayError, state: RequestState): GatewayError {
  if (state.attempts === 0) return err;
  const headers: Record<string, string> = { ...err.headers, 'x-switchyard-attempts': String(state.attempts) };
  if (state.endpoint) headers['x-switchyard-endpoint'] = state.endpoint;
  if (state.fallback) headers['x-switchyard-fallback'] = state.fallback;
  return new GatewayError(err.status, err.kind, err.message, {
    param: err.param,
    code: err.code,
    ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}),
    ...(err.shouldRetry !== undefined ? { shouldRetry: err.shouldRetry } : {}),
    headers,
    cause: err.cause,
  });
}
