/** Serving a cached answer: the stored bytes (JSON, or the whole SSE/NDJSON stream) with `x-switchyard-cache: hit`. */
import type { AdmittedCall } from '../call/call.js';
import { decodeEntry } from './entry.js';

/** Writes the cached answer to the client; false when the entry is unreadable (then it is treated as a miss). */
export function replayEntry(call: AdmittedCall, raw: string): boolean {
  const entry = decodeEntry(raw);
  if (!entry) return false;
  const h: Record<string, string> = {
    'content-type': entry.contentType,
    'x-request-id': call.record.id,
    'x-switchyard-cache': 'hit',
  };
  if (call.stream) {
    h['cache-control'] = 'no-cache';
    h['x-accel-buffering'] = 'no';
  }
  call.sink.writeHead(200, h);
  call.sink.end(entry.body);
  return true;
}
