/** Error responses after upstream attempts say what the gateway did, like committed responses do (pipeline/commit.ts). */
import type { UpstreamRecord } from '../call/record.js';
import type { GatewayError } from '../errors.js';

/** `err` with x-switchyard-attempts / -endpoint / -fallback added, when at least one attempt was made. */
export function withAttemptHeaders(err: GatewayError, up: UpstreamRecord): GatewayError {
  if (up.attempts === 0) return err;
  const headers: Record<string, string> = { 'x-switchyard-attempts': String(up.attempts) };
  if (up.endpoint) headers['x-switchyard-endpoint'] = up.endpoint;
  if (up.fallback) headers['x-switchyard-fallback'] = up.fallback;
  return err.withHeaders(headers);
}
