/**
 * Bounded resources (issue 13, item 3), on the real listener with raw sockets: header and body timeouts (408, then
 * the connection is closed), the API key screened from the headers before a body is read, a shared budget for the
 * body bytes of callers without a valid key, a maximum JSON depth and model-name length (400), and a maximum upstream
 * event size (an oversized or endless SSE event or NDJSON line fails the attempt as an upstream protocol error).
 */
import { connect } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../sim/index.js';
import { lineSink } from '../support/log.js';
import { poolManifests, startTestProxy, type TestProxy } from '../support/proxy.js';
import {
  protocolPools,
  type ScriptedUpstream,
  startScriptedUpstream,
  surfaceChat,
  VIA,
} from '../support/scripted-upstream.js';
import { waitFor } from '../support/wait.js';
import { KEYS, KEYS_SECRET, routePolicy } from './governance-fixtures.js';

const LIMITS = {
  headersTimeoutMs: 400,
  bodyTimeoutMs: 800,
  maxUnauthenticatedBodyBytes: 1024 * 1024,
  maxJsonDepth: 16,
  maxJsonValues: 1000,
  maxModelNameLength: 64,
  maxUpstreamEventBytes: 64 * 1024,
};

let sim: Simulator;
let upstream: ScriptedUpstream;
let proxy: TestProxy;
const logLines: string[] = [];

beforeAll(async () => {
  sim = await startSimulator({ flavour: 'vllm', models: ['sim'] });
  // Streams one event (or line) that never ends, 16 KiB at a time, until the proxy hangs up.
  upstream = await startScriptedUpstream((req, res) => {
    const ndjson = req.path.startsWith('/api/');
    res.writeHead(200, { 'content-type': ndjson ? 'application/x-ndjson' : 'text/event-stream' });
    res.write(ndjson ? '{"message": {"content": "' : 'data: {"choices": [{"delta": {"content": "');
    const piece = 'x'.repeat(16 * 1024);
    const timer = setInterval(() => res.write(piece), 1);
    res.on('close', () => clearInterval(timer));
  });
  proxy = await startTestProxy(
    [
      KEYS_SECRET,
      poolManifests({ name: 'locked', model: 'locked', upstreamName: 'sim', urls: [`${sim.url}/v1`] }),
      poolManifests({ name: 'open', model: 'open', upstreamName: 'sim', urls: [`${sim.url}/v1`] }),
      protocolPools(upstream.url, {
        backendSpec: '  healthCheck: { enabled: false }',
        poolSpec: '  retry: { attempts: 1 }',
      }),
      routePolicy(
        'locked',
        `  rules: [{ match: { model: { value: locked } } }]
  tenants: [{ name: team-a, apiKeys: [{ name: api-keys, key: team-a }] }]`,
      ),
    ].join('\n---\n'),
    { limits: LIMITS, log: pino({ level: 'info' }, lineSink(logLines)) },
  );
  await waitFor(() => proxy.store.current !== undefined, 10_000, 'the snapshot');
});
afterAll(async () => {
  await proxy?.stop();
  await upstream?.close();
  await sim?.close();
});

interface RawExchange {
  /** Everything the proxy sent back. */
  text: string;
  /** The proxy closed the connection. */
  closed: boolean;
}

/**
 * Sends `head` (request line and headers, without the blank line when `completeHead` is false) and `body`, keeps the
 * connection open without sending more, and resolves when the proxy closes it (or after `waitMs`).
 */
function raw(head: string, body = '', waitMs = 10_000): Promise<RawExchange> {
  return new Promise((resolve, reject) => {
    const socket = connect(proxy.port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed: false });
    }, waitMs);
    socket.on('data', (d) => {
      text += d.toString('utf8');
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
    socket.on('error', reject);
    socket.write(head + body);
  });
}

const post = (path: string, length: number, extra = '') =>
  `POST ${path} HTTP/1.1\r\nHost: proxy\r\nContent-Type: application/json\r\nanthropic-version: 2023-06-01\r\nContent-Length: ${length}\r\n${extra}\r\n`;

const statusOf = (text: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
const jsonOf = (text: string) => JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;

describe('client timeouts', () => {
  it('a client that stops sending its headers gets 408 and is closed', async () => {
    const r = await raw('POST /v1/chat/completions HTTP/1.1\r\nHost: proxy\r\nContent-Type: app');
    expect(r.closed).toBe(true);
    expect(statusOf(r.text)).toBe(408);
  });

  it.each([
    ['/v1/chat/completions', (b: Record<string, unknown>) => (b.error as { code: string }).code],
    ['/v1/messages', (b: Record<string, unknown>) => (b.error as { type: string }).type],
    ['/api/chat', (b: Record<string, unknown>) => b.error as string],
  ])('a client that stops sending its body gets 408 in the %s shape and is closed', async (path, detail) => {
    const r = await raw(post(path, 1000), '{"model": "open", "messages": [');
    expect(r.closed).toBe(true);
    expect(statusOf(r.text)).toBe(408);
    expect(String(detail(jsonOf(r.text)))).toMatch(/request_timeout|invalid_request_error|did not arrive/);
  });

  it('an unread body on an unknown path is cut off too', async () => {
    const r = await raw(post('/no/such/path', 1000), '{"x": ');
    expect(r.closed).toBe(true);
  });
});

describe('credentials before the body', () => {
  it('a key that is valid nowhere is refused from the headers: 401 without waiting for the body, then closed', async () => {
    const r = await raw(post('/v1/chat/completions', 9_000_000, 'Authorization: Bearer sk-not-a-key\r\n'), '{"model"');
    expect(r.closed).toBe(true);
    expect(statusOf(r.text)).toBe(401);
    expect(jsonOf(r.text)).toMatchObject({ error: { code: 'invalid_api_key' } });
  });

  it('bodies of callers without a valid key share one byte budget; keyed callers are not held back', async () => {
    const half = 'x'.repeat(600 * 1024);
    const anonymous = [1, 2, 3].map(() => raw(post('/v1/chat/completions', 900 * 1024), half));
    const keyed = fetch(`${proxy.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS.teamA}` },
      body: JSON.stringify({ model: 'locked', messages: [{ role: 'user', content: half }], max_tokens: 2 }),
    });
    const results = await Promise.all(anonymous);
    const refused = results.filter((r) => statusOf(r.text) === 503);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const r of refused) {
      expect(r.closed).toBe(true);
      expect(jsonOf(r.text)).toMatchObject({ error: { code: 'unauthenticated_body_budget_exhausted' } });
    }
    for (const r of results.filter((x) => statusOf(x.text) !== 503)) expect(statusOf(r.text)).toBe(408);
    expect((await keyed).status).toBe(200);
    // The budget is whole again once those bodies are gone.
    const after = await surfaceChat(proxy.url, 'openai', 'open', {
      stream: false,
      extra: { max_tokens: 2, user: half },
    });
    expect(after.status).toBe(200);
  });
});

describe('request shape bounds', () => {
  const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
  const surfaces = [
    ['/v1/chat/completions', 'openai'],
    ['/v1/messages', 'anthropic'],
    ['/api/chat', 'ollama'],
  ] as const;

  it.each(surfaces)('%s: JSON nested deeper than the limit is a 400, deep-but-allowed is not', async (path) => {
    for (const depth of [17, 5000, 200_000]) {
      const body = `{"model": "open", "max_tokens": 2, "messages": [{"role": "user", "content": "hi"}], "metadata": {"x": ${nested(depth)}}}`;
      const res = await fetch(`${proxy.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
        body,
      });
      expect(res.status, `depth ${depth}`).toBe(400);
      expect(await res.text()).toMatch(/deeper than 16/);
    }
    const ok = await fetch(`${proxy.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: `{"model": "open", "messages": [{"role": "user", "content": "hi"}], "x": ${nested(12)}}`,
    });
    expect(await ok.text()).not.toMatch(/deeper than/);
  });

  it.each(surfaces)('%s: a body of more values than the limit is a 400 before it is parsed', async (path) => {
    // Each invalid item of an array costs the validator about half a kilobyte: a 2 MB body of a million zeros took a
    // proxy with a 256 MiB heap down before this bound.
    const post = (items: string) =>
      fetch(`${proxy.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
        body: `{"model": "open", "max_tokens": 2, "messages": [${items}]}`,
      });
    for (const n of [1000, 100_000]) {
      const res = await post(Array(n).fill('0').join(','));
      expect(res.status, `${n} values`).toBe(400);
      expect(await res.text()).toMatch(/more than 1000 values/);
    }
    const within = await post(Array(300).fill('{"role": "user", "content": "a, b"}').join(','));
    expect(await within.text()).not.toMatch(/values/);
  });

  it('an over-long model name is a 400 on every surface and never reaches a log line', async () => {
    const long = `m${'x'.repeat(1_000_000)}`;
    for (const surface of ['openai', 'anthropic', 'ollama'] as const) {
      const res = await surfaceChat(proxy.url, surface, long, { stream: false });
      expect(res.status, surface).toBe(400);
      const text = await res.text();
      expect(text.length, surface).toBeLessThan(2000);
      expect(text).toMatch(/longer than 64 characters/);
    }
    for (const path of [`/v1/models/${'y'.repeat(5000)}`]) {
      const res = await fetch(`${proxy.url}${path}`);
      expect(res.status).toBe(400);
    }
    const show = await fetch(`${proxy.url}/api/show`, { method: 'POST', body: JSON.stringify({ model: long }) });
    expect(show.status).toBe(400);
    expect(logLines.every((l) => l.length < 4096)).toBe(true);
  });
});

describe('upstream event size', () => {
  it.each(['openai', 'anthropic', 'ollama'] as const)(
    'an endless upstream event, %s client of each protocol, fails the attempt at the limit (502)',
    async (surface) => {
      for (const protocol of ['openai', 'ollama'] as const) {
        const before = upstream.received.length;
        const res = await surfaceChat(proxy.url, surface, VIA[protocol], { stream: true });
        expect(res.status, protocol).toBe(502);
        expect(await res.text(), protocol).toMatch(/larger than 65536 bytes/);
        expect(upstream.received.length - before).toBe(1);
      }
    },
  );
});
