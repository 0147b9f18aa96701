/** Error responses after upstream attempts say what the gateway did, like committed responses do (commit.ts). */

import type { RequestState } from '../env.js';
import type { GatewayError } from '../errors.js';

/** `err` with x-switchyard-attempts / -endpoint / -fallback added, when at least one attempt was made. */
export function withAttemptHeaders(err: GatewayError, state: RequestState): GatewayError {
  if (state.attempts === 0) return err;
  const headers: Record<string, string> = { 'x-switchyard-attempts': String(state.attempts) };
  if (state.endpoint) headers['x-switchyard-endpoint'] = state.endpoint;
  if (state.fallback) headers['x-switchyard-fallback'] = state.fallback;
  return err.withHeaders(headers);
}
