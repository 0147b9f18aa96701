/**
 * Incremental HTTP/1.1 request parsing for the hostile server (it speaks raw TCP so it can answer with broken HTTP):
 * request line, headers, and a body framed by content-length or chunked transfer coding.
 */

export interface ParsedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** A request the hostile server will not read (too large, or framed in a way it cannot parse). */
export class RequestTooLarge extends Error {}

const HEAD_END = Buffer.from('\r\n\r\n');

/** Reads one chunked body from `buf` at `at`; the body and the offset after it, or null when incomplete. */
function readChunked(buf: Buffer, at: number): { body: Buffer; end: number } | null {
  const parts: Buffer[] = [];
  let i = at;
  for (;;) {
    const eol = buf.indexOf('\r\n', i);
    if (eol < 0) return null;
    const size = Number.parseInt(buf.subarray(i, eol).toString('latin1').split(';')[0] as string, 16);
    if (!Number.isFinite(size) || size < 0) throw new RequestTooLarge('bad chunk size');
    if (size === 0) {
      // The last chunk's line end starts the blank line that ends the (usually empty) trailer section.
      const end = buf.indexOf(HEAD_END, eol);
      if (end < 0) return null;
      return { body: Buffer.concat(parts), end: end + 4 };
    }
    if (buf.length < eol + 2 + size + 2) return null;
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    i = eol + 2 + size + 2;
  }
}

/**
 * Parses the first complete request in `buf`; null when more bytes are needed. Throws RequestTooLarge past
 * `maxBytes` or on framing it cannot read.
 */
export function parseRequest(buf: Buffer, maxBytes: number): { request: ParsedRequest; consumed: number } | null {
  const headEnd = buf.indexOf(HEAD_END);
  if (headEnd < 0) {
    if (buf.length > 64 * 1024) throw new RequestTooLarge('request head too large');
    return null;
  }
  const lines = buf.subarray(0, headEnd).toString('latin1').split('\r\n');
  const [method = 'GET', target = '/'] = (lines[0] ?? '').split(' ');
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const c = line.indexOf(':');
    if (c > 0) headers[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
  }
  const start = headEnd + 4;
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const r = readChunked(buf, start);
    if (r === null) {
      if (buf.length > maxBytes) throw new RequestTooLarge('request body too large');
      return null;
    }
    return { request: { method, path, headers, body: r.body }, consumed: r.end };
  }
  const length = Number(headers['content-length'] ?? 0);
  if (!Number.isSafeInteger(length) || length < 0 || length > maxBytes) throw new RequestTooLarge('bad length');
  if (buf.length < start + length) return null;
  return {
    request: { method, path, headers, body: Buffer.from(buf.subarray(start, start + length)) },
    consumed: start + length,
  };
}
