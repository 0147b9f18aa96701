/**
 * Streaming and failure semantics of the data plane (README "Behaviour clients can rely on") against the upstream simulator: client
 * disconnects abort the upstream, mid-stream failures end with an error event and no [DONE], and each timeout.
 */
import { request } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../sim/index.js';
import { FakeClock } from '../support/clock.js';
import { poolManifests, startTestProxy, type TestProxy } from '../support/proxy.js';
import { waitFor } from '../support/wait.js';

let sim: Simulator;
let proxy: TestProxy;

const timeouts = (t: string) => `  timeouts: { ${t} }\n  healthCheck: { enabled: false }`;
const singleAttempt = '  retry: { attempts: 1 }';

beforeAll(async () => {
  sim = await startSimulator({ flavour: 'vllm', models: ['m'], ttftMs: 5, itlMs: 5 });
  proxy = await startTestProxy(
    poolManifests({
      model: 'm',
      urls: [`${sim.url}/v1`],
      backendSpec: timeouts('firstByte: 400ms, idle: 400ms, total: 5s'),
      poolSpec: singleAttempt,
    }),
  );
});
afterEach(() => {
  sim.setFaults(null);
  sim.setTiming({ ttftMs: 5, itlMs: 5 });
});
afterAll(async () => {
  await proxy?.stop();
  await sim?.close();
});

const chat = (content: string, extra: Record<string, unknown> = {}, init: RequestInit = {}) =>
  fetch(`${proxy.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content }], ...extra }),
    ...init,
  });

/** Data payloads of an SSE body. */
const events = (text: string) =>
  text
    .split('\n\n')
    .filter((e) => e.startsWith('data: '))
    .map((e) => e.slice(6));

describe('streaming', () => {
  it('aborts the upstream request when the client disconnects', async () => {
    sim.resetStats();
    sim.setTiming({ itlMs: 50 });
    const controller = new AbortController();
    const res = await chat('long answer', { stream: true, max_tokens: 200 }, { signal: controller.signal });
    const reader = res.body?.getReader();
    await reader?.read();
    controller.abort();
    await waitFor(() => sim.stats().abortedByClient === 1, 5000, 'the upstream to see the abort');
    expect(sim.stats().completed).toBe(0);
  });

  it('ends a stream reset mid-way with an error event and no [DONE]', async () => {
    const res = await chat('x [sim reset-after=2]', { stream: true, max_tokens: 20 });
    expect(res.status).toBe(200);
    const data = events(await res.text());
    expect(data.length).toBeGreaterThanOrEqual(2);
    expect(JSON.parse(data.at(-1) as string).error.code).toBe('upstream_stream_error');
    expect(data).not.toContain('[DONE]');
  });

  it('treats an upstream that closes without finish_reason or [DONE] as an error', async () => {
    const res = await chat('x [sim close-without-done; after-chunks=2]', { stream: true, max_tokens: 20 });
    const data = events(await res.text());
    expect(JSON.parse(data.at(-1) as string).error.code).toBe('upstream_stream_incomplete');
    expect(data).not.toContain('[DONE]');
  });

  it('relays an upstream error event as an error event', async () => {
    const res = await chat('x [sim mid-stream-error; after-chunks=1]', { stream: true, max_tokens: 20 });
    const data = events(await res.text());
    expect(JSON.parse(data.at(-1) as string).error).toBeDefined();
    expect(data).not.toContain('[DONE]');
  });
});

describe('timeouts', () => {
  /** The proxy's clock: a limit runs out when the test advances it, never because the machine is slow. */
  const clock = new FakeClock();
  const seen = { started: 0, firstBytes: 0 };
  const observers = [{ onAttemptStart: () => void seen.started++, onFirstByte: () => void seen.firstBytes++ }];
  let timed: TestProxy;

  const startTimed = (t: string) =>
    startTestProxy(
      poolManifests({ model: 'm', urls: [`${sim.url}/v1`], backendSpec: timeouts(t), poolSpec: singleAttempt }),
      { clock, observers },
    );
  const post = (p: TestProxy, content: string, extra: Record<string, unknown> = {}) =>
    fetch(`${p.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content }], ...extra }),
    });
  /** Waits for the next attempt (its timers are set as it starts), or its first byte, then advances the clock. */
  const advanceAfter = async (signal: 'started' | 'firstBytes', ms: number) => {
    const n = seen[signal] + 1;
    await waitFor(() => seen[signal] >= n, 10_000, `attempt ${signal}`);
    await clock.advance(ms);
  };

  beforeAll(async () => {
    timed = await startTimed('firstByte: 400ms, idle: 400ms, total: 5s');
  });
  afterAll(async () => {
    await timed?.stop();
  });

  it('answers 504 when no first byte arrives in time', async () => {
    const res = post(timed, 'x [sim slow-first-byte-ms=30000]');
    await advanceAfter('started', 400);
    expect((await res).status).toBe(504);
    expect(((await (await res).json()) as { error: { code: string } }).error.code).toBe('upstream_timeout');
  });

  it('applies the first-byte limit to streams before anything is sent', async () => {
    sim.setTiming({ ttftMs: 30_000 });
    const res = post(timed, 'x', { stream: true });
    await advanceAfter('started', 400);
    expect((await res).status).toBe(504);
  });

  it('ends a stream that goes idle with an error event', async () => {
    sim.setTiming({ itlMs: 30_000 });
    const res = post(timed, 'x', { stream: true, max_tokens: 5 });
    await advanceAfter('firstBytes', 400);
    expect((await res).status).toBe(200);
    const data = events(await (await res).text());
    expect(JSON.parse(data.at(-1) as string).error.code).toBe('upstream_timeout');
  });

  it('ends a stream that exceeds the total limit', async () => {
    const p = await startTimed('total: 600ms');
    try {
      sim.setTiming({ itlMs: 100 });
      const res = post(p, 'x', { stream: true, max_tokens: 50 });
      await advanceAfter('firstBytes', 600);
      const data = events(await (await res).text());
      expect(JSON.parse(data.at(-1) as string).error.message).toMatch(/total time limit/);
    } finally {
      await p.stop();
    }
  });

  it('answers 504 for an upstream that accepts and never answers', async () => {
    const res = post(timed, 'x [sim hang]');
    await advanceAfter('started', 400);
    expect((await res).status).toBe(504);
  });
});

describe('request limits over the network', () => {
  it('answers 413 for a body over the limit', async () => {
    const p = await startTestProxy(poolManifests({ model: 'm', urls: [`${sim.url}/v1`] }), {
      limits: { maxBodyBytes: 2048 },
    });
    try {
      const res = await fetch(`${p.url}/v1/chat/completions`, {
        method: 'POST',
        body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'y'.repeat(10_000) }] }),
      });
      expect(res.status).toBe(413);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('request_too_large');
    } finally {
      await p.stop();
    }
  });

  it('answers 413 from the declared length, before the body is sent, and after the limit for chunked bodies', async () => {
    const p = await startTestProxy(poolManifests({ model: 'm', urls: [`${sim.url}/v1`] }), {
      limits: { maxBodyBytes: 2048 },
    });
    const { port } = new URL(p.url);
    const post = (headers: Record<string, string | number>, first: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/chat/completions', headers });
        let answered = false;
        req.on('response', (res) => {
          answered = true;
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            body += c;
          });
          res.on('end', () => {
            resolve({ status: res.statusCode ?? 0, body });
            req.destroy();
          });
        });
        req.on('error', (e) => (answered ? undefined : reject(e)));
        req.write(first);
        // Keep sending slowly (chunked case) until answered; never send the declared 50 MB.
        const more = setInterval(() => (answered ? clearInterval(more) : req.write('y'.repeat(1024))), 20);
        setTimeout(() => clearInterval(more), 3000);
      });
    try {
      const declared = await post({ 'content-type': 'application/json', 'content-length': 50_000_000 }, '{"model"');
      expect(declared.status).toBe(413);
      expect(declared.body).toContain('request_too_large');
      const chunked = await post(
        { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        '{"model":"m","messages":[{"role":"user","content":"',
      );
      expect(chunked.status).toBe(413);
      expect(chunked.body).toContain('request_too_large');
    } finally {
      await p.stop();
    }
  });
});
