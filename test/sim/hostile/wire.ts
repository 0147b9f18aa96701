/**
 * From an answer to the bytes the hostile server writes: event framing (SSE / NDJSON / one JSON body, with line-end
 * variants), the HTTP/1.1 head and transfer framing (content-length, chunked, or delimited by the close), and how the
 * bytes are cut into writes. A `Plan` is what the connection then executes.
 */
import type { Answer, Ev } from './answers.js';

/** One write, after an optional pause. */
export interface Part {
  bytes: Buffer;
  delayMs?: number;
}

/**
 * What happens after the last part: `close` (FIN), `reset` (RST), `hang` (nothing more until the peer leaves),
 * `endless` (the same bytes over and over, never a line end), `keep-alive` (ready for the next request).
 */
export type Ending = 'close' | 'reset' | 'hang' | 'endless' | 'keep-alive';

export interface Plan {
  parts: Part[];
  ending: Ending;
  /** Repeated by `endless`. */
  endless?: Buffer;
}

/** How events become text. */
export interface EventStyle {
  eol?: '\n' | '\r\n' | '\r';
  /** `data:x` instead of `data: x`. */
  noSpace?: boolean;
  /** A `: comment` line before every event. */
  comments?: boolean;
  /** `id:` and `retry:` fields on every event. */
  idRetry?: boolean;
  /** A blank line between NDJSON lines. */
  blankLines?: boolean;
  /** No line end after the last NDJSON line. */
  noFinalEol?: boolean;
}

/** The body text of `events` framed as `framing`. */
export function frameEvents(framing: Answer['framing'], events: readonly Ev[], style: EventStyle = {}): string {
  const eol = style.eol ?? '\n';
  if (framing === 'json') return events.map((e) => e.data).join('');
  if (framing === 'ndjson') {
    const text = events.map((e) => e.data).join(style.blankLines ? `${eol}${eol}` : eol);
    return style.noFinalEol ? text : text + eol;
  }
  const sp = style.noSpace ? '' : ' ';
  return events
    .map((e, i) => {
      let s = style.comments ? `: keep-alive ${i}${eol}` : '';
      if (style.idRetry) s += `id:${sp}${i}${eol}retry:${sp}1000${eol}`;
      if (e.event !== undefined) s += `event:${sp}${e.event}${eol}`;
      return `${s}data:${sp}${e.data}${eol}${eol}`;
    })
    .join('');
}

export type Transfer = 'length' | 'chunked' | 'close';

/** The status line and headers; `transfer` decides the framing header. */
export function httpHead(
  status: number,
  headers: readonly [string, string][],
  transfer: Transfer,
  bodyLength: number,
  keepAlive = false,
): string {
  const reason = status === 200 ? 'OK' : 'Hostile';
  let h = `HTTP/1.1 ${status} ${reason}\r\n`;
  for (const [k, v] of headers) h += `${k}: ${v}\r\n`;
  if (transfer === 'length') h += `content-length: ${bodyLength}\r\n`;
  if (transfer === 'chunked') h += 'transfer-encoding: chunked\r\n';
  h += `connection: ${keepAlive && transfer !== 'close' ? 'keep-alive' : 'close'}\r\n\r\n`;
  return h;
}

/** `body` cut at `cuts` (sorted offsets), each piece one write. */
export function cutAt(body: Buffer, cuts: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (const c of cuts) {
    if (c <= at || c >= body.length) continue;
    out.push(body.subarray(at, c));
    at = c;
  }
  if (at < body.length || out.length === 0) out.push(body.subarray(at));
  return out;
}

/** One HTTP chunk of `data` (chunked transfer coding). */
export const chunk = (data: Buffer): Buffer =>
  Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]);

export const LAST_CHUNK = Buffer.from('0\r\n\r\n');

/** The headers an answer carries plus its content type (none when `contentType` is empty). */
export function answerHeaders(a: Answer, contentType = a.contentType): [string, string][] {
  return contentType === '' ? [...a.headers] : [['content-type', contentType], ...a.headers];
}

export interface SerializeOptions {
  transfer?: Transfer;
  /** Offsets where the body is cut into separate writes (for chunked: separate chunks). */
  cuts?: number[];
  /** Pause before each body write (after the head). */
  delayMs?: number;
  /** Pause before the head. */
  firstDelayMs?: number;
  keepAlive?: boolean;
  contentType?: string;
  extraHeaders?: [string, string][];
  status?: number;
}

/** A complete, well-framed HTTP answer carrying `body`. */
export function serialize(a: Answer, body: Buffer, o: SerializeOptions = {}): Plan {
  const transfer = o.transfer ?? (a.stream ? 'chunked' : 'length');
  const headers = [...answerHeaders(a, o.contentType), ...(o.extraHeaders ?? [])];
  const keepAlive = o.keepAlive === true && transfer !== 'close';
  const head = Buffer.from(httpHead(o.status ?? a.status, headers, transfer, body.length, keepAlive));
  const pieces = body.length === 0 ? [] : cutAt(body, o.cuts ?? []);
  const parts: Part[] = [{ bytes: head, ...(o.firstDelayMs ? { delayMs: o.firstDelayMs } : {}) }];
  for (const p of pieces)
    parts.push({ bytes: transfer === 'chunked' ? chunk(p) : p, ...(o.delayMs ? { delayMs: o.delayMs } : {}) });
  if (transfer === 'chunked') parts.push({ bytes: LAST_CHUNK });
  return { parts, ending: keepAlive ? 'keep-alive' : 'close' };
}

/** A plan that writes `bytes` as they are (a raw, possibly broken, HTTP answer) and then ends as `ending`. */
export function raw(bytes: string | Buffer, ending: Ending = 'close', delayMs?: number): Plan {
  return {
    parts: [{ bytes: typeof bytes === 'string' ? Buffer.from(bytes) : bytes, ...(delayMs ? { delayMs } : {}) }],
    ending,
  };
}
