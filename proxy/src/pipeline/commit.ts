/** The response head sent to the client once an attempt is committed. */
import type { AuthorizedCall } from '../call/call.js';
import type { PoolMember } from '../endpoints/member.js';

/** Headers of a committed response: content type, request id and what the gateway did. */
export function responseHeaders(call: AuthorizedCall, member: PoolMember, contentType: string): Record<string, string> {
  const up = call.record.upstream;
  const h: Record<string, string> = {
    'content-type': contentType,
    'x-request-id': call.record.id,
    'x-switchyard-endpoint': member.endpoint.id,
    'x-switchyard-attempts': String(up.attempts),
  };
  if (up.fallback) h['x-switchyard-fallback'] = up.fallback;
  if (up.dropped?.length) h['x-switchyard-dropped'] = up.dropped.join(', ');
  if (call.stream) {
    h['cache-control'] = 'no-cache';
    h['x-accel-buffering'] = 'no';
  }
  return h;
}
