/**
 * Upstream data is untrusted (issue 13, item 5): malformed non-streamed answers are 502 on every (surface, upstream
 * protocol) pair, never 500 and never a 200 carrying the garbage; absurd usage numbers never reach metrics, limits or
 * logs (they are estimated and flagged instead); upstream error text is scrubbed of credentials before it is cut;
 * only allow-listed upstream headers (a sane Retry-After) reach the client.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LogRecord, recordSink } from '../support/log.js';
import { scrape } from '../support/metrics-scrape.js';
import { sampleSum } from '../support/prom-text.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import {
  type Protocol,
  protocolPools,
  type ScriptedUpstream,
  type Surface,
  startScriptedUpstream,
  surfaceChat,
  VIA,
} from '../support/scripted-upstream.js';
import { waitFor } from '../support/wait.js';
import { routePolicy } from './governance-fixtures.js';

const BACKEND_KEY = 'sk-backend-0123456789abcdefXYZ';

let upstream: ScriptedUpstream;
let proxy: TestProxy;
const logLines: LogRecord[] = [];
/** The next non-streamed answer: status, body and headers. */
let next: { status: number; body: string; headers?: Record<string, string> } = { status: 200, body: '{}' };

beforeAll(async () => {
  upstream = await startScriptedUpstream((_req, res) => {
    res.writeHead(next.status, { 'content-type': 'application/json', ...next.headers });
    res.end(next.body);
  });
  const common = {
    backendSpec: `  healthCheck: { enabled: false }\n  pricing: { inputPerMillion: 1, outputPerMillion: 1, currency: USD }`,
    poolSpec: '  retry: { attempts: 1 }',
  };
  proxy = await startTestProxy(
    [
      `apiVersion: v1\nkind: Secret\nmetadata: { name: upstream-key }\nstringData: { key: "${BACKEND_KEY}" }\n---`,
      protocolPools(upstream.url, {
        ...common,
        extraBackendSpec: { openai: '  credentialsRef: { name: upstream-key, key: key }' },
      }),
      routePolicy(
        'tpm',
        '  rules: [{ match: { model: { value: via-openai } } }]\n  rateLimits: [{ scope: global, limits: { tokensPerMinute: 1000000 } }]',
      ),
    ].join('\n---\n'),
    { log: pino({ level: 'info' }, recordSink(logLines)) },
  );
  await waitFor(() => proxy.store.current !== undefined, 10_000, 'the snapshot');
});
afterAll(async () => {
  await proxy?.stop();
  await upstream?.close();
});

const ask = (surface: Surface, model: string, id?: string) =>
  surfaceChat(proxy.url, surface, model, { stream: false, ...(id ? { headers: { 'x-request-id': id } } : {}) });

const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;

/** Answers no protocol allows (valid JSON of the wrong shape included), for each upstream protocol. */
const MALFORMED: Record<Protocol, string[]> = {
  openai: ['not json', '[]', '{}', '{"choices": "x"}', '{"choices": [{"message": 5}]}', '{"choices": [null]}'],
  anthropic: ['not json', '{}', '{"type": "message", "content": "x"}', '{"type": "message", "content": [null]}'],
  ollama: ['not json', '{}', '{"message": 5}', '{"message": {"content": 5}, "done": true}'],
};

describe('malformed non-streamed answers', () => {
  const pairs: Array<[Surface, Protocol]> = [];
  for (const s of ['openai', 'anthropic', 'ollama'] as const)
    for (const p of ['openai', 'anthropic', 'ollama'] as const) pairs.push([s, p]);

  it.each(pairs)('%s client, %s upstream: 502, never 500 or a 2xx', async (surface, protocol) => {
    for (const body of MALFORMED[protocol]) {
      next = { status: 200, body };
      const res = await ask(surface, VIA[protocol]);
      const text = await res.text();
      expect(res.status, `${body.slice(0, 60)} → ${text.slice(0, 200)}`).toBe(502);
    }
  });
});

describe('an answer nested deeper than any parser stack', () => {
  it.each(['openai', 'anthropic', 'ollama'] as const)('%s client: never a 500', async (surface) => {
    next = {
      status: 200,
      body: `{"model": "other", "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi", "x": ${deep(200_000)}}, "finish_reason": "stop"}]}`,
    };
    const res = await ask(surface, 'via-openai');
    expect([200, 502]).toContain(res.status);
  });
});

describe('usage numbers', () => {
  const absurd = [
    { prompt_tokens: -1e308, completion_tokens: 5 },
    { prompt_tokens: 3, completion_tokens: 1e308 },
    { prompt_tokens: '3', completion_tokens: 5 },
    { prompt_tokens: 3.5, completion_tokens: 5 },
    { prompt_tokens: 3, completion_tokens: 5, prompt_tokens_details: { cached_tokens: -1 } },
  ];

  it('are validated before metrics, limits, cost and logs: otherwise estimated and flagged', async () => {
    for (const [i, usage] of absurd.entries()) {
      next = {
        status: 200,
        body: JSON.stringify({
          id: 'x',
          object: 'chat.completion',
          model: 'up',
          choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
          usage,
        }),
      };
      const id = `usage-${i}`;
      const res = await ask('openai', 'via-openai', id);
      expect(res.status).toBe(200);
      await res.text();
      await waitFor(() => logLines.some((l) => l.msg === 'request' && l.requestId === id), 5000, 'the access log');
      const line = logLines.find((l) => l.msg === 'request' && l.requestId === id) ?? {};
      expect(line.usageEstimated, JSON.stringify(usage)).toBe(true);
      for (const k of ['inputTokens', 'outputTokens', 'cost'] as const) {
        const v = line[k] as number;
        expect(Number.isFinite(v) && v >= 0, `${k}=${v} for ${JSON.stringify(usage)}`).toBe(true);
      }
      expect(Number.isInteger(line.inputTokens) && Number.isInteger(line.outputTokens)).toBe(true);
    }
    const families = await scrape(proxy.adminUrl);
    for (const name of ['switchyard_tokens_total', 'switchyard_estimated_cost_total']) {
      const total = sampleSum(families, name, {});
      expect(Number.isFinite(total) && total >= 0, `${name} = ${total}`).toBe(true);
    }
    // The token limit still admits requests: its counters were settled with sane numbers.
    next.body = next.body.replace(/"usage":.*}$/, '"usage":{"prompt_tokens":1,"completion_tokens":1}}');
    expect((await ask('openai', 'via-openai')).status).toBe(200);
  });
});

describe('upstream error text', () => {
  it('is scrubbed of credentials before it is cut', async () => {
    for (const pad of [1962, 1964, 1966, 1968, 1970]) {
      for (const secret of [BACKEND_KEY, 'sk-proj-AbCdEfGhIjKlMnOpQrStUvWx']) {
        next = {
          status: 400,
          body: JSON.stringify({ error: { message: `${'x'.repeat(pad)} key ${secret} rejected`, type: 'invalid' } }),
        };
        const res = await ask('openai', 'via-openai');
        expect(res.status).toBe(400);
        const message = ((await res.json()) as { error: { message: string } }).error.message;
        for (let n = 6; n <= secret.length; n++) expect(message, `pad ${pad}`).not.toContain(secret.slice(0, n));
        expect(message.length).toBeLessThanOrEqual(2000);
      }
    }
  });

  it('a long error body is read whole: its message passes, an over-long code does not', async () => {
    next = { status: 400, body: JSON.stringify({ error: { message: 'bad', code: 'c'.repeat(10_000) } }) };
    const res = await ask('openai', 'via-openai');
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text.length).toBeLessThan(4000);
    expect(JSON.parse(text)).toMatchObject({ error: { message: 'bad', code: null } });
  });
});

describe('upstream headers', () => {
  const leaky = { 'set-cookie': 'session=upstream', 'x-internal-node': 'gpu-17', server: 'vllm/0.9', via: 'lb-3' };

  it('only allow-listed ones reach the client, on answers and on errors', async () => {
    next = {
      status: 200,
      headers: leaky,
      body: JSON.stringify({
        choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 1, completion_tokens: 1 },
      }),
    };
    const ok = await ask('openai', 'via-openai');
    expect(ok.status).toBe(200);
    next = { status: 400, headers: leaky, body: '{"error":{"message":"bad"}}' };
    const bad = await ask('openai', 'via-openai');
    expect(bad.status).toBe(400);
    for (const res of [ok, bad]) for (const h of Object.keys(leaky)) expect(res.headers.get(h), h).toBeNull();
  });

  it('an absurd Retry-After is replaced by a sane one', async () => {
    for (const ra of ['1e308', '-5', 'soon', '99999999999']) {
      next = {
        status: 429,
        headers: { 'retry-after': ra, 'retry-after-ms': ra },
        body: '{"error":{"message":"slow down"}}',
      };
      const res = await ask('openai', 'via-openai');
      expect(res.status).toBe(429);
      const seconds = res.headers.get('retry-after');
      if (seconds !== null) {
        expect(seconds, ra).toMatch(/^\d+$/);
        expect(Number(seconds), ra).toBeLessThanOrEqual(3600);
      }
      const ms = res.headers.get('retry-after-ms');
      if (ms !== null) expect(ms, ra).toMatch(/^\d+$/);
    }
  });
});
