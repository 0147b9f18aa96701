/**
 * Governance metrics end to end with a real Redis: authentication results, rate-limit decisions and denials, cache
 * results, tenant token usage, Redis errors and `switchyard_redis_up`; and no API key ever reaches /metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../sim/index.js';
import { measureRequest, scrape } from '../support/metrics-scrape.js';
import { sampleSum } from '../support/prom-text.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { waitFor } from '../support/wait.js';
import { ask, backendAndPool, KEYS, KEYS_SECRET, routePolicy } from './governance-fixtures.js';

let redis: TestRedis;
let sim: Simulator;
let proxy: TestProxy;

beforeAll(async () => {
  redis = await startRedis();
  sim = await startSimulator({ flavour: 'vllm' });
  const manifests = [
    KEYS_SECRET,
    backendAndPool('gov', 'gov-model', [sim.url]),
    routePolicy(
      'gov',
      `  rules: [{ match: { model: { value: gov-model } } }]
  auth: { required: true }
  tenants:
    - name: team-a
      apiKeys: [{ name: api-keys, key: team-a }]
      keyLimits: { requestsPerMinute: 3 }
  cache: { enabled: true, ttl: 5m }`,
    ),
  ].join('');
  proxy = await startTestProxy(manifests, { redisUrl: redis.url });
  await waitFor(() => proxy.store.current !== undefined && proxy.governance.stats().redis === 'up', 10_000, 'ready');
});
afterAll(async () => {
  await proxy?.stop();
  await sim?.close();
  await redis?.close();
});

const send =
  (key: string | undefined, content = 'Say something short.') =>
  () =>
    fetch(`${proxy.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify({ ...ask('gov-model'), messages: [{ role: 'user', content }], temperature: 0 }),
    });

describe('governance metrics', () => {
  it('counts a request without a key as missing_key', async () => {
    const { res, delta } = await measureRequest(proxy.adminUrl, send(undefined));
    expect(res.status).toBe(401);
    expect(delta.of('switchyard_auth_results_total', { outcome: 'missing_key' })).toBe(1);
    expect(delta.of('switchyard_requests_total', { status_class: '4xx' })).toBe(1);
  });

  it('counts an admitted request, its tenant tokens and a cache miss, then a cache hit', async () => {
    const first = await measureRequest(proxy.adminUrl, send(KEYS.teamA));
    expect(first.res.status).toBe(200);
    const usage = JSON.parse(first.body).usage as { prompt_tokens: number; completion_tokens: number };
    expect(first.delta.of('switchyard_auth_results_total', { outcome: 'authenticated' })).toBe(1);
    expect(first.delta.of('switchyard_rate_limit_decisions_total', { decision: 'allowed', tenant: 'team-a' })).toBe(1);
    expect(first.delta.of('switchyard_cache_results_total', { result: 'miss' })).toBe(1);
    expect(first.delta.of('switchyard_tokens_total', { tenant: 'team-a', type: 'output' })).toBe(
      usage.completion_tokens,
    );
    expect(first.delta.of('switchyard_estimated_cost_total', { tenant: 'team-a', currency: 'USD' })).toBeGreaterThan(0);

    await waitFor(
      async () => sampleSum(await scrape(proxy.adminUrl), 'switchyard_cache_results_total', { result: 'stored' }) === 1,
      10_000,
      'the answer to be stored',
    );
    const second = await measureRequest(proxy.adminUrl, send(KEYS.teamA));
    expect(second.res.status).toBe(200);
    expect(second.delta.of('switchyard_cache_results_total', { result: 'hit' })).toBe(1);
    expect(second.delta.of('switchyard_upstream_attempts_total')).toBe(0);
  });

  it('counts a denial by the per-key request limit', async () => {
    let denied: Awaited<ReturnType<typeof measureRequest>> | undefined;
    for (let i = 0; i < 5 && !denied; i++) {
      const r = await measureRequest(proxy.adminUrl, send(KEYS.teamA, `question ${i}`));
      if (r.res.status === 429) denied = r;
    }
    expect(denied).toBeDefined();
    expect(denied?.delta.of('switchyard_rate_limit_decisions_total', { decision: 'limited', tenant: 'team-a' })).toBe(
      1,
    );
    expect(
      denied?.delta.of('switchyard_rate_limit_denials_total', { scope: 'key', limit: 'requests', source: 'redis' }),
    ).toBe(1);
  });

  it('reports Redis up, then down with errors and fail-open decisions, and never shows an API key', async () => {
    expect(sampleSum(await scrape(proxy.adminUrl), 'switchyard_redis_up')).toBe(1);
    await redis.stop();
    try {
      await waitFor(async () => sampleSum(await scrape(proxy.adminUrl), 'switchyard_redis_up') === 0, 10_000, 'down');
      const { delta } = await measureRequest(proxy.adminUrl, send(KEYS.teamA, 'x'));
      expect(delta.of('switchyard_redis_errors_total', { operation: 'admit', mode: 'open' })).toBeGreaterThanOrEqual(1);
      expect(delta.of('switchyard_rate_limit_decisions_total', { decision: 'fail_open' })).toBe(1);
    } finally {
      await redis.start();
    }
    const text = await (await fetch(`${proxy.adminUrl}/metrics`)).text();
    for (const key of Object.values(KEYS)) expect(text).not.toContain(key);
  });
});
