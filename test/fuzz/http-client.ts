/**
 * A raw HTTP/1.1 client for the fuzzers: it writes exactly the bytes a case says (broken framing, partial bodies,
 * pipelined requests), behaves as the case says (abort, slow reading), and parses the answers itself so an empty 2xx,
 * a truncated chunked body or a reset is seen as it is.
 */
import { connect, type Socket } from 'node:net';

/** One parsed response. */
export interface Observed {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** The body's framing ended properly (content-length reached, last chunk, or the close of a close-delimited body). */
  complete: boolean;
}

/** What the client does. */
export type Behaviour =
  | { kind: 'normal' }
  /** Send only the first `bytes` bytes, wait `afterMs`, then destroy the connection (a client that gives up). */
  | { kind: 'partial-abort'; bytes: number; afterMs: number }
  /** Send only the first `bytes` bytes and wait for whatever the server does (it must time the request out). */
  | { kind: 'partial-wait'; bytes: number }
  /** Send in pieces of `piece` bytes with `delayMs` between them. */
  | { kind: 'slow-send'; piece: number; delayMs: number }
  /** Destroy the connection once `bytes` bytes of the answer arrived. */
  | { kind: 'abort-reading'; bytes: number }
  /** Read nothing for `pauseMs` after the first bytes arrive (backpressure), then read everything. */
  | { kind: 'slow-read'; pauseMs: number };

/** Everything one exchange produced. */
export interface ExchangeResult {
  responses: Observed[];
  /** The connection ended (close, reset or our own abort) before `expected` complete responses were read. */
  cutShort: boolean;
  /** The deadline passed first. */
  timedOut: boolean;
  /** We aborted on purpose (behaviour). */
  aborted: boolean;
  durationMs: number;
  /** Bytes received in total. */
  received: number;
  /** Bytes received after the interim (1xx) responses that opened the answer, e.g. `100 Continue`. */
  answerBytes: number;
  /** Every byte of the request reached the kernel before the connection ended. */
  sent: boolean;
  /** From the start until the last byte was written (or the end, when it never was). */
  sendMs: number;
}

const HEAD_END = Buffer.from('\r\n\r\n');

/** The length of `buf` after the interim (1xx) response heads it starts with. */
function afterInterim(buf: Buffer): number {
  let at = 0;
  for (;;) {
    if (!/^HTTP\/\d\.\d 1\d\d /.test(buf.subarray(at, at + 13).toString('latin1'))) return buf.length - at;
    const end = buf.indexOf(HEAD_END, at);
    if (end < 0) return buf.length - at;
    at = end + 4;
  }
}

/** Parses the responses in `buf`; `eof` says the connection ended (close-delimited bodies end there). */
export function parseResponses(
  buf: Buffer,
  eof: boolean,
  heads: readonly boolean[] = [],
): { responses: Observed[]; rest: Buffer } {
  const responses: Observed[] = [];
  let at = 0;
  for (;;) {
    const headEnd = buf.indexOf(HEAD_END, at);
    if (headEnd < 0) break;
    const lines = buf.subarray(at, headEnd).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/\d\.\d (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const c = line.indexOf(':');
      if (c <= 0) continue;
      const k = line.slice(0, c).trim().toLowerCase();
      const v = line.slice(c + 1).trim();
      headers[k] = k in headers ? `${headers[k]}, ${v}` : v;
    }
    const start = headEnd + 4;
    if (status >= 100 && status < 200) {
      at = start;
      continue;
    }
    const noBody = heads[responses.length] === true || status === 204 || status === 304;
    if (noBody) {
      responses.push({ status, headers, body: Buffer.alloc(0), complete: true });
      at = start;
      continue;
    }
    if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const parts: Buffer[] = [];
      let i = start;
      let done = false;
      for (;;) {
        const eol = buf.indexOf('\r\n', i);
        if (eol < 0) break;
        const size = Number.parseInt(buf.subarray(i, eol).toString('latin1'), 16);
        if (!Number.isFinite(size)) break;
        if (size === 0) {
          const end = buf.indexOf(HEAD_END, eol);
          if (end >= 0) {
            i = end + 4;
            done = true;
          }
          break;
        }
        if (buf.length < eol + 2 + size + 2) {
          parts.push(buf.subarray(eol + 2, Math.min(buf.length, eol + 2 + size)));
          i = buf.length;
          break;
        }
        parts.push(buf.subarray(eol + 2, eol + 2 + size));
        i = eol + 4 + size;
      }
      if (!done && !eof) break;
      responses.push({ status, headers, body: Buffer.concat(parts), complete: done });
      at = done ? i : buf.length;
      if (!done) break;
      continue;
    }
    const cl = headers['content-length'];
    if (cl !== undefined) {
      const n = Number(cl);
      if (buf.length - start < n) {
        if (eof) responses.push({ status, headers, body: buf.subarray(start), complete: false });
        if (eof) at = buf.length;
        break;
      }
      responses.push({ status, headers, body: buf.subarray(start, start + n), complete: true });
      at = start + n;
      continue;
    }
    if (!eof) break;
    responses.push({ status, headers, body: buf.subarray(start), complete: true });
    at = buf.length;
    break;
  }
  return { responses, rest: buf.subarray(at) };
}

/** Where to send what, and how. */
export interface ExchangeOptions {
  port: number;
  host?: string;
  request: Buffer;
  behaviour?: Behaviour;
  /** Complete responses expected (pipelined requests); the exchange ends when they arrived. */
  expected?: number;
  /** Which of them answer a HEAD request (no body). */
  heads?: readonly boolean[];
  deadlineMs: number;
}

/** Sends one case's bytes and collects the answers. Never throws. */
export function exchange(o: ExchangeOptions): Promise<ExchangeResult> {
  const started = performance.now();
  const behaviour = o.behaviour ?? { kind: 'normal' };
  const expected = o.expected ?? 1;
  return new Promise((resolve) => {
    const socket: Socket = connect({ port: o.port, host: o.host ?? '127.0.0.1', noDelay: true });
    const chunks: Buffer[] = [];
    let received = 0;
    let aborted = false;
    let timedOut = false;
    let finished = false;
    let paused = false;
    let checkPending = false;
    let sent = false;
    let sentAt: number | undefined;
    const timers = new Set<NodeJS.Timeout>();
    const later = (ms: number, f: () => void) => {
      const t = setTimeout(() => {
        timers.delete(t);
        f();
      }, ms);
      timers.add(t);
    };
    const finish = () => {
      if (finished) return;
      finished = true;
      for (const t of timers) clearTimeout(t);
      socket.destroy();
      const buf = Buffer.concat(chunks);
      const { responses } = parseResponses(buf, true, o.heads);
      const completeCount = responses.filter((r) => r.complete).length;
      resolve({
        responses,
        cutShort: completeCount < expected,
        timedOut,
        aborted,
        durationMs: performance.now() - started,
        received,
        answerBytes: afterInterim(buf),
        sent,
        sendMs: (sentAt ?? performance.now()) - started,
      });
    };
    later(o.deadlineMs, () => {
      timedOut = true;
      finish();
    });
    const enough = () => {
      const { responses } = parseResponses(Buffer.concat(chunks), false, o.heads);
      return responses.filter((r) => r.complete).length >= expected;
    };
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      received += d.length;
      if (behaviour.kind === 'abort-reading' && received >= behaviour.bytes) {
        aborted = true;
        return finish();
      }
      if (behaviour.kind === 'slow-read' && !paused) {
        paused = true;
        socket.pause();
        later(behaviour.pauseMs, () => socket.resume());
      }
      // The server closes after the answers (connection: close); checking the framing is only for servers that do
      // not, so it is throttled rather than re-parsing everything on every chunk.
      if (!checkPending) {
        checkPending = true;
        later(20, () => {
          checkPending = false;
          if (enough()) finish();
        });
      }
    });
    socket.on('error', () => finish());
    socket.on('close', () => finish());
    socket.on('connect', () => {
      const req = o.request;
      if (behaviour.kind === 'partial-abort' || behaviour.kind === 'partial-wait') {
        socket.write(req.subarray(0, Math.min(behaviour.bytes, req.length)));
        if (behaviour.kind === 'partial-abort')
          later(behaviour.afterMs, () => {
            aborted = true;
            finish();
          });
        return;
      }
      if (behaviour.kind === 'slow-send') {
        let at = 0;
        const step = () => {
          if (finished) return;
          const last = at + behaviour.piece >= req.length;
          socket.write(req.subarray(at, at + behaviour.piece), (e) => {
            if (last && !e) {
              sent = true;
              sentAt = performance.now();
            }
          });
          at += behaviour.piece;
          if (!last) later(behaviour.delayMs, step);
        };
        return step();
      }
      socket.write(req, (e) => {
        if (e) return;
        sent = true;
        sentAt = performance.now();
      });
    });
  });
}
