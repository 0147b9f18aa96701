/**
 * Data-plane promises (README "Behaviour clients can rely on") checked end to end against the
 * simulator, on 127.0.0.1 only: the per-backend connect timeout and the retry it triggers, upstream credentials of
 * an openai-compatible backend (and the client's own key never forwarded), upstream 401/403 turned into a 502 that
 * never shows the key, unknown request fields passed through untouched, backpressure from a slow stream reader to
 * the upstream, and the upstream abort of a non-streamed request whose client left.
 */
import http from 'node:http';
import net from 'node:net';
import { Worker } from 'node:worker_threads';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AttemptOutcome } from '../../proxy/src/call/outcome.js';
import { type Simulator, startSimulator } from '../sim/index.js';
import { scrape } from '../support/metrics-scrape.js';
import { sampleSum } from '../support/prom-text.js';
import { poolManifests, startTestProxy, type TestProxy } from '../support/proxy.js';
import { waitFor } from '../support/wait.js';

const json = { 'content-type': 'application/json' };

/**
 * A loopback port whose TCP handshakes never complete. A worker thread listens with a backlog of 1 and then blocks
 * its event loop, so nothing is ever accepted; once filler connections fill the accept queue, Linux drops every
 * further SYN and a connect to the port stays pending (SYN retransmits) instead of being refused.
 */
interface Blackhole {
  port: number;
  close(): Promise<void>;
}

const BLACKHOLE_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const server = net.createServer();
server.listen({ host: '127.0.0.1', port: 0, backlog: 1 }, () => {
  parentPort.postMessage(server.address().port);
  Atomics.wait(new Int32Array(workerData), 0, 0);
  server.close();
});
`;

async function startBlackhole(): Promise<Blackhole> {
  const flag = new SharedArrayBuffer(4);
  const worker = new Worker(BLACKHOLE_WORKER, { eval: true, workerData: flag });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const fillers: net.Socket[] = [];
  const close = async () => {
    for (const s of fillers) s.destroy();
    const cell = new Int32Array(flag);
    Atomics.store(cell, 0, 1);
    Atomics.notify(cell, 0);
    await worker.terminate();
  };
  // Fill the accept queue until a connect stays pending.
  for (let i = 0; i < 64; i++) {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    fillers.push(socket);
    const connected = await new Promise<boolean>((resolve) => {
      // setImmediate: a connect that completed while the event loop was busy is reported before the verdict.
      const timer = setTimeout(() => setImmediate(() => resolve(false)), 250);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!connected) return { port, close };
  }
  await close();
  throw new Error('could not fill the accept queue of the blackhole listener');
}

describe('connect timeout (LLMBackend spec.timeouts.connect)', () => {
  let hole: Blackhole;
  let sim: Simulator;
  let proxy: TestProxy;
  const ends: Array<{ origin: string; outcome: AttemptOutcome; durationMs: number }> = [];

  beforeAll(async () => {
    hole = await startBlackhole();
    sim = await startSimulator({ flavour: 'vllm', models: ['m'] });
    const backendSpec = [
      '  timeouts: { connect: 300ms, firstByte: 10s }',
      '  healthCheck: { enabled: false }',
      '  metrics: { enabled: false }',
    ].join('\n');
    const dead = `http://127.0.0.1:${hole.port}/v1`;
    proxy = await startTestProxy(
      [
        poolManifests({
          model: 'm',
          urls: [dead, `${sim.url}/v1`],
          backendSpec,
          poolSpec: [
            '  scheduling: { strategy: weighted-round-robin }',
            '  retry: { attempts: 2, backoff: { base: 1ms, max: 1ms } }',
            '  outlierDetection: { consecutiveFailures: 1000 }',
          ].join('\n'),
        }),
        poolManifests({ name: 'dead', model: 'dead', urls: [dead], backendSpec, poolSpec: '  retry: { attempts: 1 }' }),
      ].join('\n---\n'),
      {
        observers: [
          {
            onAttemptEnd(_call, member, outcome, durationMs) {
              ends.push({ origin: member.endpoint.origin, outcome, durationMs });
            },
          },
        ],
      },
    );
  });
  afterEach(() => {
    ends.length = 0;
  });
  afterAll(async () => {
    await proxy?.stop();
    await sim?.close();
    await hole?.close();
  });

  const post = (model: string) =>
    fetch(`${proxy.url}/v1/chat/completions`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 }),
    });

  it('ends an attempt whose connect never completes at the connect timeout and retries it on the other replica', async () => {
    let retried: { res: Response; elapsedMs: number } | undefined;
    // Ties between the two replicas are drawn at random: stop at the first request that met the unreachable one.
    for (let i = 0; i < 20 && !retried; i++) {
      const started = Date.now();
      const res = await post('m');
      const elapsedMs = Date.now() - started;
      expect(res.status).toBe(200);
      await res.json();
      if (res.headers.get('x-switchyard-attempts') === '2') retried = { res, elapsedMs };
    }
    expect(retried, 'no request was scheduled on the unreachable replica first').toBeDefined();
    // The answer came from the simulator after about one connect timeout — undici checks connect timeouts on a
    // ~500 ms tick, so 300 ms ends within about a second. The bounds only tell the configured 300 ms from the 10 s
    // that would show if it were ignored (the first-byte limit, and undici's own default connect timeout).
    expect(retried?.res.headers.get('x-switchyard-endpoint')).toBe('backend/1');
    expect(retried?.elapsedMs).toBeGreaterThanOrEqual(280);
    expect(retried?.elapsedMs).toBeLessThan(8000);
    const timedOut = ends.find((e) => e.origin === `http://127.0.0.1:${hole.port}`);
    expect(timedOut?.outcome).toMatchObject({ kind: 'retry', cause: 'timeout' });
    expect(timedOut?.outcome.kind === 'retry' && timedOut.outcome.error.message).toMatch(/connect timeout/);
    expect(timedOut?.durationMs).toBeGreaterThanOrEqual(280);
    expect(timedOut?.durationMs).toBeLessThan(8000);
    expect(sim.stats().completed).toBeGreaterThanOrEqual(1);
  });

  it('answers 504 upstream_timeout when the only replica cannot be connected to', async () => {
    const started = Date.now();
    const res = await post('dead');
    expect(res.status).toBe(504);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('upstream_timeout');
    expect(Date.now() - started).toBeLessThan(8000); // not the 10 s first-byte limit
    expect(ends.map((e) => e.outcome.kind)).toEqual(['retry']);
  });
});

describe('openai-compatible upstream with credentials', () => {
  // Not shaped like an `sk-` key: scrubbing has to know the configured secret.
  const UPSTREAM_KEY = 'vendor-Zq8xR2mN5pW7tK3d';
  const STALE_KEY = 'vendor-stale-Hj4kL9pQ2w';
  const CLIENT_KEY = 'client-own-key-Yt6uI8oP';
  let sim: Simulator;
  let proxy: TestProxy;

  const secret = (name: string, value: string) =>
    `apiVersion: v1\nkind: Secret\nmetadata: { name: ${name} }\nstringData: { apiKey: ${value} }\n`;

  beforeAll(async () => {
    sim = await startSimulator({ flavour: 'openai', models: ['gpt-x'], apiKey: UPSTREAM_KEY });
    const backend = (name: string, model: string, secretName: string) =>
      poolManifests({
        name,
        model,
        upstreamName: 'gpt-x',
        provider: 'openai-compatible',
        urls: [`${sim.url}/v1`],
        backendSpec: [
          `  credentialsRef: { name: ${secretName}, key: apiKey }`,
          '  healthCheck: { enabled: false }',
        ].join('\n'),
      });
    proxy = await startTestProxy(
      [
        backend('vendor', 'vendor-model', 'vendor-key'),
        secret('vendor-key', UPSTREAM_KEY),
        backend('stale', 'stale-model', 'stale-key'),
        secret('stale-key', STALE_KEY),
      ].join('\n---\n'),
    );
  });
  afterEach(() => {
    sim.setFaults(null);
    sim.resetStats();
  });
  afterAll(async () => {
    await proxy?.stop();
    await sim?.close();
  });

  const post = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    fetch(`${proxy.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...json, ...headers },
      body: JSON.stringify(body),
    });
  const ask = (model: string, extra: Record<string, unknown> = {}) => ({
    model,
    messages: [{ role: 'user', content: 'hi' }],
    max_tokens: 3,
    ...extra,
  });

  it("sends the backend's key as a bearer token and never the client's own credentials", async () => {
    const res = await post(ask('vendor-model'), {
      authorization: `Bearer ${CLIENT_KEY}`,
      'x-api-key': CLIENT_KEY,
    });
    expect(res.status).toBe(200);
    await res.json();
    const sent = sim.requests().at(-1);
    expect(sent?.path).toBe('/v1/chat/completions');
    expect(sent?.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    expect(sent?.headers['x-api-key']).toBeUndefined();
    expect(JSON.stringify(sent?.headers)).not.toContain(CLIENT_KEY);
  });

  it('passes unknown request fields through to the upstream untouched', async () => {
    const extra = {
      foo: { bar: [1, 2], nested: { deep: [null, true, 'x'] } },
      guided_json: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      top_k: 20,
      repetition_penalty: 1.05,
      chat_template_kwargs: { enable_thinking: false },
      empty: {},
    };
    const body = {
      model: 'vendor-model',
      messages: [{ role: 'user', content: 'hi', x_message_tag: { id: 7 } }],
      max_tokens: 3,
      ...extra,
    };
    const res = await post(body);
    expect(res.status).toBe(200);
    await res.json();
    // Only the model name is rewritten.
    expect(sim.requests().at(-1)?.body).toEqual({ ...body, model: 'gpt-x' });

    const streamed = await post({ ...body, stream: true });
    expect(streamed.status).toBe(200);
    expect(await streamed.text()).toContain('data: [DONE]');
    // Streams additionally get include_usage forced on.
    expect(sim.requests().at(-1)?.body).toEqual({
      ...body,
      model: 'gpt-x',
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('turns an upstream 401 for a bad gateway key into a 502, not retried, without the key', async () => {
    for (const stream of [false, true]) {
      sim.resetStats();
      const res = await post(ask('stale-model', { stream }), { authorization: `Bearer ${CLIENT_KEY}` });
      expect(res.status).toBe(502);
      const text = await res.text();
      const body = JSON.parse(text) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('upstream_auth_failed');
      expect(body.error.message).toMatch(/401/);
      expect(res.headers.get('x-switchyard-attempts')).toBe('1');
      expect(sim.stats().requests).toBe(1);
      expect(sim.requests().at(-1)?.headers.authorization).toBe(`Bearer ${STALE_KEY}`);
      expect(text).not.toContain(STALE_KEY);
      expect(text).not.toContain(UPSTREAM_KEY);
      expect(JSON.stringify([...res.headers])).not.toContain(STALE_KEY);
    }
  });

  it('scrubs the key from an upstream 401/403 message that echoes it', async () => {
    for (const status of [401, 403]) {
      sim.setFaults({
        status,
        count: 1,
        message: `Incorrect API key provided: ${UPSTREAM_KEY} (sent as Authorization: Bearer ${UPSTREAM_KEY}).`,
      });
      const res = await post(ask('vendor-model'));
      expect(res.status).toBe(502);
      const text = await res.text();
      expect(JSON.parse(text).error.code).toBe('upstream_auth_failed');
      expect(text).toContain('Incorrect API key provided');
      expect(text).not.toContain(UPSTREAM_KEY);
      expect(text).not.toContain(UPSTREAM_KEY.slice(0, 12));
    }
  });
});

describe('backpressure from a slow stream reader', () => {
  const STEPS = 1000;
  const CHOICES = 128;
  let sim: Simulator;
  let proxy: TestProxy;
  let req: http.ClientRequest | undefined;

  beforeAll(async () => {
    // llama.cpp's /slots reports how far the running request got (next_token.n_decoded): the stream's progress.
    sim = await startSimulator({ flavour: 'llamacpp', models: ['m'], itlMs: 1, kvBlocks: 16_384 });
    proxy = await startTestProxy(
      poolManifests({
        model: 'm',
        provider: 'llamacpp',
        urls: [`${sim.url}/v1`],
        backendSpec: '  healthCheck: { enabled: false }\n  metrics: { enabled: false }',
        poolSpec: '  retry: { attempts: 1 }',
      }),
    );
  });
  afterAll(async () => {
    req?.destroy();
    await proxy?.stop();
    await sim?.close();
  });

  /** Tokens generated so far by each running task (llama.cpp's /slots), by task id. */
  const decodedByTask = async () => {
    const slots = (await (await fetch(`${sim.url}/slots`)).json()) as Array<{
      id_task?: number;
      next_token?: Array<{ n_decoded: number; has_next_token: boolean }>;
    }>;
    const out = new Map<number, number>();
    for (const s of slots)
      if (s.id_task !== undefined && s.next_token?.[0]?.has_next_token) out.set(s.id_task, s.next_token[0].n_decoded);
    return out;
  };
  const decoded = async () => Math.max(0, ...(await decodedByTask()).values());

  it('stalls the upstream while the client does not read, and resumes it when the client reads', async () => {
    // 128 choices per token step: about 32 MB of SSE in all, about 1.3 s of generation when nobody waits.
    const body = JSON.stringify({
      model: 'm',
      stream: true,
      n: CHOICES,
      max_tokens: STEPS,
      messages: [{ role: 'user', content: `long [sim output-tokens=${STEPS}]` }],
    });
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      req = http.request(`${proxy.url}/v1/chat/completions`, { method: 'POST', agent: false, headers: json }, resolve);
      req.on('error', reject);
      req.end(body);
    });
    expect(res.statusCode).toBe(200);
    // The response is not read: wait until the upstream's progress stops moving.
    const samples: number[] = [];
    await waitFor(
      async () => {
        samples.push(await decoded());
        const last = samples.slice(-4);
        return last.length === 4 && last[0] !== 0 && last.every((n) => n === last[0]);
      },
      5000,
      'the upstream stream to stall',
    );
    const stalledAt = samples.at(-1) ?? 0;
    const [stalledTask] = [...(await decodedByTask()).keys()];
    // As many token steps for a client that reads (one choice, so few bytes): it runs to its end meanwhile, and the
    // unread one does not move. It sits where the socket buffers filled up.
    const control = await fetch(`${proxy.url}/v1/chat/completions`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ ...JSON.parse(body), n: 1 }),
    });
    for await (const _ of control.body ?? []) {
      // discarded: only the end matters
    }
    expect(sim.stats().completed).toBe(1);
    const stalled = await decodedByTask();
    expect(stalled.size).toBe(1);
    expect(stalled.get(stalledTask as number)).toBe(stalledAt);
    expect(stalledAt).toBeLessThan(STEPS * 0.6);
    expect(sim.stats().running).toBe(1);

    // Reading again releases the upstream, and the whole answer arrives.
    let bytes = 0;
    let tail = '';
    res.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      tail = (tail + chunk.toString('latin1')).slice(-64);
    });
    await new Promise((resolve) => res.once('end', resolve));
    expect(tail).toContain('data: [DONE]');
    expect(bytes).toBeGreaterThan(STEPS * CHOICES * 100);
    expect(sim.stats().completed).toBe(2);
  });
});

describe('a non-streamed request whose client leaves', () => {
  let sim: Simulator;
  let proxy: TestProxy;

  beforeAll(async () => {
    sim = await startSimulator({ flavour: 'vllm', models: ['m'], ttftMs: 5000 });
    proxy = await startTestProxy(
      poolManifests({
        model: 'm',
        urls: [`${sim.url}/v1`],
        backendSpec: '  healthCheck: { enabled: false }\n  metrics: { enabled: false }',
      }),
    );
  });
  afterAll(async () => {
    await proxy?.stop();
    await sim?.close();
  });

  it('aborts the upstream request at once (freeing its slot) and does not retry it', async () => {
    const controller = new AbortController();
    const pending = fetch(`${proxy.url}/v1/chat/completions`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'slow' }], max_tokens: 3 }),
      signal: controller.signal,
    }).catch((e: unknown) => e);
    await waitFor(() => sim.stats().running === 1, 3000, 'the upstream to start generating');
    controller.abort();
    expect(await pending).toBeInstanceOf(Error);
    // Well before the 5 s the simulator would take to answer.
    await waitFor(() => sim.stats().abortedByClient === 1, 1500, 'the upstream to see the abort');
    expect(sim.stats()).toMatchObject({ running: 0, completed: 0, requests: 1 });
    // the proxy counts a request once it is over: a retry would have been sent before
    await waitFor(
      async () => sampleSum(await scrape(proxy.adminUrl), 'switchyard_requests_total') === 1,
      5000,
      'the proxy to count the request as over',
    );
    expect(sim.stats().requests).toBe(1);
  });
});
