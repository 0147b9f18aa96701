/**
 * Lingering close on the real listener with raw sockets: a client still sending a body the proxy refused before its
 * last byte (413 for a declared length over the limit, 401 for a key valid nowhere) or a head Node refused (431)
 * reads the whole answer — the proxy reads and discards the rest instead of closing with unread bytes, whose reset
 * would drop the answer — and a client that never stops sending is closed after the lingering bound of the proxy's
 * clock.
 */
import { connect } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LINGER_BOUNDS } from '../../proxy/src/http/lingering-close.js';
import { type Simulator, startSimulator } from '../sim/index.js';
import { FakeClock } from '../support/clock.js';
import { lineSink } from '../support/log.js';
import { poolManifests, startTestProxy, type TestProxy } from '../support/proxy.js';
import { waitFor } from '../support/wait.js';
import { KEYS_SECRET, routePolicy } from './governance-fixtures.js';

const MiB = 1024 * 1024;
const clock = new FakeClock(0);
let sim: Simulator;
let proxy: TestProxy;
const logLines: string[] = [];

beforeAll(async () => {
  sim = await startSimulator({ flavour: 'vllm', models: ['sim'] });
  proxy = await startTestProxy(
    [
      KEYS_SECRET,
      poolManifests({ name: 'locked', model: 'locked', upstreamName: 'sim', urls: [`${sim.url}/v1`] }),
      routePolicy(
        'locked',
        `  rules: [{ match: { model: { value: locked } } }]
  tenants: [{ name: team-a, apiKeys: [{ name: api-keys, key: team-a }] }]`,
      ),
    ].join('\n---\n'),
    {
      clock,
      log: pino({ level: 'debug' }, lineSink(logLines)),
    },
  );
  await waitFor(() => proxy.store.current !== undefined, 10_000, 'the snapshot');
});
afterAll(async () => {
  await proxy?.stop();
  await sim?.close();
});

interface Answer {
  status: number;
  headers: string;
  body: string;
}

/** Splits a raw HTTP/1.1 answer; throws unless its body is complete (as long as its Content-Length says). */
function parseAnswer(raw: Buffer): Answer {
  const text = raw.toString('utf8');
  const split = text.indexOf('\r\n\r\n');
  if (split < 0) throw new Error(`no complete head in ${JSON.stringify(text.slice(0, 200))}`);
  const headers = text.slice(0, split);
  const body = text.slice(split + 4);
  const length = /\r\ncontent-length: *(\d+)/i.exec(headers)?.[1];
  if (length !== undefined) expect(Buffer.byteLength(body)).toBe(Number(length));
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(headers)?.[1]), headers, body };
}

/**
 * Sends `head` and then `bodyBytes` bytes without reading anything until all of it is written (as a client that
 * reads the answer only once it has sent its request), then reads until the proxy closes; resolves with what it read
 * and the error that ended the connection, if any.
 */
function sendAllThenRead(head: string, bodyBytes: number): Promise<{ received: Buffer; error?: string }> {
  return new Promise((resolve) => {
    const socket = connect(proxy.port, '127.0.0.1');
    socket.pause();
    const received: Buffer[] = [];
    let error: string | undefined;
    socket.on('data', (d: Buffer) => received.push(d));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message;
    });
    socket.on('close', () => resolve({ received: Buffer.concat(received), ...(error ? { error } : {}) }));
    const chunk = Buffer.alloc(64 * 1024, 0x78);
    let sent = 0;
    const pump = () => {
      while (sent < bodyBytes) {
        const n = Math.min(chunk.length, bodyBytes - sent);
        sent += n;
        if (!socket.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void socket.once('drain', pump);
      }
      socket.resume();
    };
    socket.write(head);
    pump();
  });
}

const post = (length: number, extra = '') =>
  `POST /v1/chat/completions HTTP/1.1\r\nHost: proxy\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n${extra}\r\n`;

describe('lingering close', () => {
  it('a client still sending a body declared over the limit reads the whole 413', async () => {
    const r = await sendAllThenRead(post(20 * MiB), 20 * MiB);
    expect(r.error).toBeUndefined();
    const answer = parseAnswer(r.received);
    expect(answer.status).toBe(413);
    expect(answer.headers).toMatch(/\r\nconnection: close/i);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'request_too_large' } });
  });

  it('a client still sending its body with a key valid nowhere reads the whole 401', async () => {
    const r = await sendAllThenRead(post(8 * MiB, 'Authorization: Bearer sk-not-a-key\r\n'), 8 * MiB);
    expect(r.error).toBeUndefined();
    const answer = parseAnswer(r.received);
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'invalid_api_key' } });
  });

  it('a client still sending a head too large for the parser reads the whole 431', async () => {
    const head = `POST /v1/chat/completions HTTP/1.1\r\nHost: proxy\r\nX-Big: `;
    const r = await sendAllThenRead(head, 4 * MiB);
    expect(r.error).toBeUndefined();
    expect(parseAnswer(r.received).status).toBe(431);
  });

  it('a client that never stops sending is closed after the lingering bound of the proxy clock', async () => {
    // Half-open: the proxy's FIN does not end the client's side, which goes on sending.
    const socket = connect({ port: proxy.port, host: '127.0.0.1', allowHalfOpen: true });
    let received = '';
    let closed = false;
    socket.on('data', (d: Buffer) => {
      received += d.toString('utf8');
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
    });
    // A small chunk every few milliseconds: a stream that never ends, slow enough to stay below the byte bound.
    const chunk = Buffer.alloc(1024, 0x78);
    const pump = setInterval(() => socket.write(chunk), 5);
    try {
      socket.write(post(1024 * MiB));
      await waitFor(() => received.includes('\r\n\r\n'), 10_000, 'the 413 answer');
      expect(received).toMatch(/^HTTP\/1\.1 413 /);
      const startedAt = clock.now();
      // Each step waits for the client's writes to be read in real time, so only the total bound can end it.
      while (!closed) {
        const before = socket.bytesWritten;
        await waitFor(() => closed || socket.bytesWritten > before + 4096, 10_000, 'the client to send more');
        if (closed) break;
        expect(clock.now() - startedAt).toBeLessThanOrEqual(LINGER_BOUNDS.totalMs);
        await clock.advance(1000);
      }
      expect(clock.now() - startedAt).toBeGreaterThanOrEqual(LINGER_BOUNDS.totalMs);
      await waitFor(() => logLines.some((l) => l.includes('"end":"total-time"')), 5000, 'the lingering log line');
    } finally {
      clearInterval(pump);
      socket.destroy();
    }
  });
});
