/** The response head sent to the client once an attempt is committed. */
import type { PoolMember } from '../config/runtime.js';
import type { ProxyCall } from './types.js';

/** Headers of a committed response: content type, request id and what the gateway did. */
export function responseHeaders(call: ProxyCall, member: PoolMember, contentType: string): Record<string, string> {
  const h: Record<string, string> = {
    'content-type': contentType,
    'x-request-id': call.state.id,
    'x-switchyard-endpoint': member.endpoint.id,
    'x-switchyard-attempts': String(call.state.attempts),
  };
  if (call.state.fallback) h['x-switchyard-fallback'] = call.state.fallback;
  if (call.stream) {
    h['cache-control'] = 'no-cache';
    h['x-accel-buffering'] = 'no';
  }
  return h;
}
