import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/clock.js';
import { waitFor } from '../../../test/support/wait.js';
import { type LingerEnd, lingerOnClose } from './lingering-close.js';

const BOUNDS = { totalMs: 60_000, idleMs: 1000, maxBytes: 256 * 1024 };

let server: Server;
let clock: FakeClock;
let requests: number;
let ends: Array<{ end: LingerEnd; discarded: number }>;
const sockets: Socket[] = [];

beforeEach(async () => {
  clock = new FakeClock(0);
  requests = 0;
  ends = [];
  // Refuses every request from its headers, as the proxy does a body declared over its limit.
  server = createServer((_req, res) => {
    requests++;
    res.writeHead(413, { connection: 'close', 'content-length': '2' });
    res.end('no');
  });
  lingerOnClose(server, { bounds: BOUNDS, clock, onEnd: (end, discarded) => ends.push({ end, discarded }) });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** A half-open client (the server's FIN does not end its side) that has sent a head declaring a `length` body. */
function client(length = 1024 ** 3): { socket: Socket; received: () => string; closed: () => boolean } {
  const socket = connect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
  sockets.push(socket);
  let text = '';
  let closed = false;
  socket.on('data', (d: Buffer) => {
    text += d.toString('latin1');
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    closed = true;
  });
  socket.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${length}\r\n\r\n`);
  return { socket, received: () => text, closed: () => closed };
}

describe('lingerOnClose', () => {
  it('answers, half-closes and discards the rest until the client closes its side', async () => {
    const c = client();
    c.socket.on('end', () => {
      c.socket.write(Buffer.alloc(10_000));
      c.socket.end();
    });
    await waitFor(() => ends.length === 1, 10_000, 'the lingering close');
    expect(c.received()).toMatch(/^HTTP\/1\.1 413 [\s\S]*\r\n\r\nno$/);
    expect(ends[0]?.end).toBe('client-closed');
    expect(ends[0]?.discarded).toBeGreaterThanOrEqual(10_000);
  });

  it('parses nothing more: a request sent after the refused one is discarded, not answered', async () => {
    const c = client(4);
    c.socket.on('end', () => c.socket.end('abcdGET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await waitFor(() => c.closed(), 10_000, 'the close');
    expect(requests).toBe(1);
    expect(c.received().match(/HTTP\/1\.1/g)).toHaveLength(1);
  });

  it('closes a client that stops sending once it has been quiet for the idle bound of the clock', async () => {
    const c = client();
    c.socket.write(Buffer.alloc(1000));
    await waitFor(() => c.received().endsWith('no'), 10_000, 'the answer');
    // The client, half-open and silent, learns of the close only when it next sends: the server's side is watched.
    const waited = await clock.advanceUntil(() => ends.length > 0, 100, 10_000, 'the close');
    expect(waited).toBeGreaterThanOrEqual(BOUNDS.idleMs);
    expect(ends.map((e) => e.end)).toEqual(['idle-time']);
  });

  it('closes a client that keeps sending after the byte bound, without waiting for the clock', async () => {
    const c = client();
    const chunk = Buffer.alloc(16 * 1024);
    const pump = () => {
      while (!c.closed() && c.socket.write(chunk));
      if (!c.closed()) c.socket.once('drain', pump);
    };
    pump();
    await waitFor(() => c.closed(), 10_000, 'the close');
    expect(ends.map((e) => e.end)).toEqual(['bytes']);
    expect(ends[0]?.discarded).toBeGreaterThan(BOUNDS.maxBytes);
    expect(ends[0]?.discarded).toBeLessThan(BOUNDS.maxBytes + 1024 * 1024);
  });

  it('answers a head the parser refuses as Node does (431), then lingers', async () => {
    const socket = connect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1' });
    sockets.push(socket);
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
    });
    socket.write(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'x'.repeat(64 * 1024)}`);
    await waitFor(() => ends.length === 1, 10_000, 'the lingering close');
    expect(text).toBe('HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n');
    expect(ends[0]?.end).toBe('client-closed');
    expect(requests).toBe(0);
  });
});
