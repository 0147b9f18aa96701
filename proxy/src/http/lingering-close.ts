/**
 * Lingering close (nginx's `lingering_close`) for an HTTP/1 server. When the server ends a connection while its
 * client may still be sending — a body refused before its last byte (413, 401, 503, 408) or a head Node's parser
 * refused (400, 431, 408) — closing the socket at once leaves unread bytes in the kernel, which answers them with a
 * TCP reset, and the reset makes the client's kernel drop the answer before the client read it. Instead the server
 * half-closes (its FIN follows the answer), reads and discards whatever still arrives (counted, never buffered) and
 * destroys the socket once the client closes its side, or at the first of three bounds: a total time, a time without
 * a byte, and a byte count. A connection whose client already closed its side is closed at once, as before.
 *
 * Node's HTTP server closes a connection after its last answer through `socket.destroySoon()` and answers a broken
 * head from its 'clientError' event's default; both are taken over here, per socket. While lingering, the socket's
 * bytes no longer reach the HTTP parser: nothing more is parsed, so nothing more is answered.
 */
import type { Server, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { type Clock, systemClock } from '../../../shared/src/clock.js';

/** How long and how much a connection lingers. */
export interface LingerBounds {
  /** Longest a connection lingers in all, ms. */
  totalMs: number;
  /** Longest it lingers without receiving a byte, ms. */
  idleMs: number;
  /** Most bytes it reads and discards; past them it is closed. */
  maxBytes: number;
}

/**
 * nginx's lingering_time (30 s) and lingering_timeout (5 s), and a byte bound that lets a client finish sending a
 * body of several times the body limit before it reads the answer. A client can already hold a socket longer than
 * this without any refusal (headers and body timeouts, 65 s keep-alive), so lingering gives it no new hold.
 */
export const LINGER_BOUNDS: Readonly<LingerBounds> = { totalMs: 30_000, idleMs: 5_000, maxBytes: 64 * 1024 * 1024 };

/** How a lingering connection ended: its client closed its side, or which bound was reached. */
export type LingerEnd = 'client-closed' | 'total-time' | 'idle-time' | 'bytes';

export interface LingerOptions {
  bounds?: LingerBounds;
  clock?: Clock;
  /** Told once per lingering connection when it is closed, with the bytes it discarded. */
  onEnd?: (end: LingerEnd, discardedBytes: number) => void;
}

/** Node's answers to a head its parser refused (as in its own 'clientError' default), by error code. */
const PARSE_ERROR_ANSWERS: Readonly<Record<string, string>> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: '413 Payload Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
};

function parseErrorAnswer(code: string | undefined): string {
  const status = (code && PARSE_ERROR_ANSWERS[code]) ?? '400 Bad Request';
  return `HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`;
}

/** Makes `server` close its connections lingeringly (see the module comment); call before it accepts any. */
export function lingerOnClose(server: Server, opts: LingerOptions = {}): void {
  const bounds = opts.bounds ?? LINGER_BOUNDS;
  const clock = opts.clock ?? systemClock;
  const lingering = new WeakSet<Socket>();
  const inFlight = new WeakMap<Socket, ServerResponse>();

  const linger = (socket: Socket) => {
    if (lingering.has(socket) || socket.destroyed) return;
    if (socket.readableEnded || !socket.readable) return Socket.prototype.destroySoon.call(socket);
    lingering.add(socket);
    const started = clock.now();
    let lastByteAt = started;
    let discarded = 0;
    const close = (end: LingerEnd) => {
      if (socket.destroyed) return;
      total.cancel();
      idle.cancel();
      socket.destroy();
      opts.onEnd?.(end, discarded);
    };
    const total = clock.after(bounds.totalMs, () => close('total-time'), { unref: true });
    let idle = clock.after(bounds.idleMs, checkIdle, { unref: true });
    function checkIdle() {
      const quietFor = clock.now() - lastByteAt;
      if (quietFor >= bounds.idleMs) close('idle-time');
      else idle = clock.after(bounds.idleMs - quietFor, checkIdle, { unref: true });
    }
    // The parser's own listener goes; adding one makes Node hand the bytes to it instead of the parser.
    socket.removeAllListeners('data');
    socket.on('data', (chunk: Buffer) => {
      discarded += chunk.length;
      lastByteAt = clock.now();
      if (discarded > bounds.maxBytes) close('bytes');
    });
    socket.once('end', () => close('client-closed'));
    socket.once('close', () => {
      total.cancel();
      idle.cancel();
    });
    socket.end();
    socket.resume();
    // The parser may have stopped the socket's reads (its body stream was full); this starts them again if so.
    socket._read(64 * 1024);
  };

  server.on('connection', (socket: Socket) => {
    socket.destroySoon = () => linger(socket);
  });
  server.on('request', (req, res: ServerResponse) => {
    const socket = req.socket;
    inFlight.set(socket, res);
    res.once('close', () => {
      if (inFlight.get(socket) === res) inFlight.delete(socket);
    });
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (lingering.has(socket)) return;
    const res = inFlight.get(socket);
    if (err.code !== 'ECONNRESET' && socket.writable && !res?.headersSent) socket.write(parseErrorAnswer(err.code));
    if (res || err.code === 'ECONNRESET' || !socket.writable) socket.destroy();
    else linger(socket);
  });
}
