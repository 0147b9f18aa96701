/**
 * Rate limits end to end with a real Redis shared by four proxies: RPM and TPM exact across replicas, concurrency
 * per key, daily token budgets, OpenAI-style 429 headers, usage and cost, and the output of a stream the client
 * aborted counted from what was relayed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UsageRecord } from '../../proxy/src/call/observers.js';
import { type Simulator, startSimulator } from '../sim/index.js';
import { scrape } from '../support/metrics-scrape.js';
import { sampleSum } from '../support/prom-text.js';
import { poolManifests, startTestProxy, type TestProxy } from '../support/proxy.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { readUntilMatches } from '../support/streams.js';
import { waitFor } from '../support/wait.js';
import { ask, backendAndPool, type ChatResult, chat, KEYS, KEYS_SECRET, routePolicy } from './governance-fixtures.js';

let redis: TestRedis;
let sim: Simulator;
let slowSim: Simulator;
let streamSim: Simulator;
let claudeSim: Simulator;
let proxies: TestProxy[];
const usage: UsageRecord[] = [];

const modelPolicy = (name: string, model: string, spec: string) =>
  routePolicy(name, `  rules: [{ match: { model: { value: ${model} } } }]\n${spec}`);

beforeAll(async () => {
  redis = await startRedis();
  [sim, slowSim, streamSim, claudeSim] = await Promise.all([
    startSimulator({ flavour: 'vllm', outputTokens: 1000, maxConcurrency: 512 }),
    startSimulator({ flavour: 'vllm', ttftMs: 2500 }),
    startSimulator({ flavour: 'vllm', outputTokens: 1000, itlMs: 25 }),
    startSimulator({ flavour: 'anthropic', models: ['claude-sim'], outputTokens: 1000, itlMs: 25 }),
  ]);
  const manifests = [
    KEYS_SECRET,
    backendAndPool('rpm', 'rpm-model', [sim.url]),
    backendAndPool('tpm', 'tpm-model', [sim.url]),
    backendAndPool('conc', 'conc-model', [slowSim.url]),
    backendAndPool('stream', 'stream-model', [streamSim.url]),
    backendAndPool('budget', 'budget-model', [sim.url]),
    backendAndPool('costday', 'costday-model', [sim.url]),
    poolManifests({
      name: 'claude',
      model: 'claude-model',
      upstreamName: 'claude-sim',
      provider: 'anthropic',
      urls: [claudeSim.url],
      backendSpec: '  pricing: { inputPerMillion: 3, outputPerMillion: 15, currency: USD }',
    }),
    '---\n',
    modelPolicy('rpm', 'rpm-model', '  rateLimits: [{ scope: global, limits: { requestsPerMinute: 100 } }]'),
    modelPolicy('tpm', 'tpm-model', '  rateLimits: [{ scope: model, limits: { tokensPerMinute: 10000 } }]'),
    // One key is one tenant of one policy: the tenant's limits per model are rateLimits restricted to a model.
    routePolicy(
      'team-a',
      `  rules:
    - match: { model: { value: conc-model } }
    - match: { model: { value: stream-model } }
    - match: { model: { value: budget-model } }
    - match: { model: { value: costday-model } }
  tenants:
    - name: team-a
      apiKeys: [{ name: api-keys, key: team-a }]
  rateLimits:
    - { scope: key, model: conc-model, limits: { concurrentRequests: 2 } }
    - { scope: tenant, model: stream-model, limits: { tokensPerMinute: 100000 } }
    - { scope: tenant, model: budget-model, limits: { tokensPerDay: 300 } }
    - { scope: tenant, model: costday-model, limits: { costPerDay: 0.0003 } }`,
    ),
  ].join('');
  proxies = await Promise.all(
    [0, 1, 2, 3].map(() => startTestProxy(manifests, { redisUrl: redis.url, redisCommandTimeoutMs: 10_000 })),
  );
  proxies[0]?.observe({ onUsage: (_call, u) => usage.push(u) });
  for (const p of proxies) expect(p.governance.stats().redis).toBe('up');
});

afterAll(async () => {
  await Promise.all((proxies ?? []).map((p) => p.stop()));
  await Promise.all([sim, slowSim, streamSim, claudeSim].map((s) => s?.close()));
  await redis?.close();
});

const outputTokensMetric = async (model: string) =>
  sampleSum(await scrape(proxies[0]?.adminUrl ?? ''), 'switchyard_tokens_total', { model, type: 'output' });

/** Sends `n` requests spread round-robin over the proxies, `parallel` at a time. */
async function burst(n: number, parallel: number, make: (i: number) => [string, Record<string, unknown>, string?]) {
  const results: ChatResult[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < n) {
        const i = next++;
        const [url, body, key] = make(i);
        results.push(await chat(url, body, key ? { key } : {}));
      }
    }),
  );
  return results;
}

const proxyUrl = (i: number) => (proxies[i % proxies.length] as TestProxy).url;

describe('rate limits shared through Redis', () => {
  it('admits at most 100 of 400 requests across four proxies under 100 RPM, with OpenAI 429 headers', async () => {
    const chats = () => sim.stats().byPath['/v1/chat/completions'] ?? 0;
    const before = chats();
    const results = await burst(400, 40, (i) => [proxyUrl(i), ask('rpm-model')]);
    const admitted = results.filter((r) => r.status === 200).length;
    const limited = results.filter((r) => r.status === 429);
    expect(admitted).toBeLessThanOrEqual(101);
    expect(admitted).toBeGreaterThanOrEqual(100);
    expect(limited.length + admitted).toBe(400);
    expect(chats() - before).toBe(admitted);
    const r = limited[0] as ChatResult;
    expect(r.body).toMatchObject({ error: { type: 'rate_limit_error', code: 'rate_limit_exceeded' } });
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(r.headers.get('retry-after-ms'))).toBeGreaterThan(0);
    expect(r.headers.get('x-ratelimit-limit-requests')).toBe('100');
    expect(r.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(r.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+(\.\d+)?(ms|s)$|^\d+m[\d.]+s$/);
  });

  it('keeps admitted tokens within 10,000 TPM plus one request, counting real usage', async () => {
    const results = await burst(150, 8, (i) => [proxyUrl(i), ask('tpm-model', { max_tokens: 100 })]);
    const ok = results.filter((r) => r.status === 200);
    const tokens = ok.map((r) => (r.body.usage as { total_tokens: number }).total_tokens);
    const total = tokens.reduce((a, b) => a + b, 0);
    const one = Math.max(...tokens);
    expect(one).toBeGreaterThan(100);
    expect(total).toBeLessThanOrEqual(10_000 + one);
    expect(total).toBeGreaterThan(10_000 - 3 * one);
    const limited = results.find((r) => r.status === 429) as ChatResult;
    expect(limited.headers.get('x-ratelimit-limit-tokens')).toBe('10000');
    expect(ok[0]?.headers.get('x-ratelimit-limit-tokens')).toBe('10000');
  });

  it('limits concurrent requests per key and releases the slot when a request ends', async () => {
    const results = await Promise.all(
      [0, 1, 2, 3, 4, 5].map((i) => chat(proxyUrl(i), ask('conc-model'), { key: KEYS.teamA })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(2);
    const denied = results.filter((r) => r.status === 429);
    expect(denied).toHaveLength(4);
    expect(JSON.stringify(denied[0]?.body)).toContain('concurrent requests');
    const after = await chat(proxyUrl(0), ask('conc-model'), { key: KEYS.teamA });
    expect(after.status).toBe(200);
  });

  it('enforces a daily token budget with a 429 that is not worth retrying', async () => {
    const statuses: number[] = [];
    let last: ChatResult | undefined;
    for (let i = 0; i < 4; i++) {
      last = await chat(proxyUrl(i), ask('budget-model', { max_tokens: 100 }), { key: KEYS.teamA });
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 2)).toEqual([200, 200]);
    expect(statuses.slice(2)).toEqual([429, 429]);
    expect(last?.body).toMatchObject({ error: { code: 'budget_exceeded' } });
    expect(last?.headers.get('x-should-retry')).toBe('false');
  });

  it('enforces a daily cost budget from the cost of the answers, across proxies', async () => {
    const statuses: number[] = [];
    let last: ChatResult | undefined;
    // Each answer costs ≈ (prompt + 100 × 2) / 1e6 ≈ 0.00021: the second one spends past 0.0003, the third is denied.
    for (let i = 0; i < 4; i++) {
      last = await chat(proxyUrl(i), ask('costday-model', { max_tokens: 100 }), { key: KEYS.teamA });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 429, 429]);
    expect(last?.body).toMatchObject({ error: { code: 'budget_exceeded' } });
    expect(JSON.stringify(last?.body)).toContain('cost per day');
  });

  it('records usage and cost from the upstream answer', async () => {
    usage.length = 0;
    const r = await chat(proxyUrl(0), ask('tpm-model', { max_tokens: 7 }));
    expect(r.status).toBe(200);
    const u = r.body.usage as { prompt_tokens: number; completion_tokens: number };
    await waitFor(() => usage.length > 0, 5000, 'usage hook');
    expect(usage[0]).toMatchObject({
      inputTokens: u.prompt_tokens,
      outputTokens: 7,
      estimated: false,
      currency: 'USD',
    });
    expect(usage[0]?.cost).toBeCloseTo((u.prompt_tokens * 1 + 7 * 2) / 1e6, 12);
  });

  it('counts the output of a stream the client aborted after 10 tokens as about 10 tokens', async () => {
    usage.length = 0;
    const controller = new AbortController();
    const res = await fetch(`${proxyUrl(0)}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS.teamA}` },
      body: JSON.stringify(ask('stream-model', { max_tokens: 1000, stream: true })),
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    await readUntilMatches(res, /"content":"(?!")/g, 10);
    controller.abort();
    await waitFor(() => usage.length > 0, 10_000, 'usage of the aborted stream');
    const u = usage[0] as UsageRecord;
    expect(u.estimated).toBe(true);
    expect(u.outputTokens).toBeGreaterThanOrEqual(10);
    expect(u.outputTokens).toBeLessThan(40);
    await waitFor(() => streamSim.stats().abortedByClient > 0, 5000, 'upstream abort');
    // The reservation (1000 output tokens) was settled to what was relayed.
    const next = await chat(proxyUrl(1), ask('stream-model'), { key: KEYS.teamA });
    expect(next.status).toBe(200);
    expect(Number(next.headers.get('x-ratelimit-remaining-tokens'))).toBeGreaterThan(100_000 - 200);
  });

  // Anthropic reports the input and one output token in `message_start`, the output only in `message_delta`: a stream
  // cut before that must be counted from what was relayed, not as the 1 token of `message_start`.
  for (const surface of ['openai', 'anthropic'] as const) {
    it(`counts an aborted stream from an Anthropic upstream by what was relayed (${surface} client)`, async () => {
      usage.length = 0;
      const tokensBefore = await outputTokensMetric('claude-model');
      const anthropic = surface === 'anthropic';
      const res = await fetch(`${proxyUrl(0)}${anthropic ? '/v1/messages' : '/v1/chat/completions'}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
        body: JSON.stringify({
          model: 'claude-model',
          max_tokens: 1000,
          stream: true,
          messages: [{ role: 'user', content: 'Tell me a long story.' }],
        }),
      });
      expect(res.status).toBe(200);
      const leave = await readUntilMatches(res, anthropic ? /"text":"(?!")/g : /"content":"(?!")/g, 12);
      await leave();
      await waitFor(() => usage.length > 0, 10_000, 'usage of the aborted stream');
      const u = usage[0] as UsageRecord;
      expect(u.estimated).toBe(true);
      expect(u.inputTokens).toBeGreaterThan(0);
      expect(u.outputTokens).toBeGreaterThanOrEqual(12);
      expect(u.outputTokens).toBeLessThan(60);
      expect(u.cost).toBeCloseTo((u.inputTokens * 3 + u.outputTokens * 15) / 1e6, 12);
      // The metrics count the estimate too.
      await waitFor(
        async () => (await outputTokensMetric('claude-model')) - tokensBefore === u.outputTokens,
        5000,
        'the estimate in switchyard_tokens_total',
      );
    });
  }
});
