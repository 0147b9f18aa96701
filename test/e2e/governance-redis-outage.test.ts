/**
 * Redis going away mid-test: a fail-open policy keeps serving with this replica's local limits, a fail-closed one
 * answers 503; a request in flight when Redis dies completes; both recover when Redis is back; no crash and no
 * unhandled rejection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../sim/index.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { waitFor } from '../support/wait.js';
import { ask, backendAndPool, chat, routePolicy } from './governance-fixtures.js';

let redis: TestRedis;
let sim: Simulator;
let proxy: TestProxy;
const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => unhandled.push(e);

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  redis = await startRedis();
  sim = await startSimulator({ flavour: 'vllm' });
  const manifests = [
    backendAndPool('open', 'open-model', [sim.url]),
    backendAndPool('closed', 'closed-model', [sim.url]),
    routePolicy(
      'open',
      `  rules: [{ match: { model: { value: open-model } } }]
  failureMode: open
  rateLimits: [{ scope: global, limits: { requestsPerMinute: 5, concurrentRequests: 10 } }]`,
    ),
    routePolicy(
      'closed',
      `  rules: [{ match: { model: { value: closed-model } } }]
  failureMode: closed
  rateLimits: [{ scope: global, limits: { requestsPerMinute: 1000 } }]`,
    ),
  ].join('');
  proxy = await startTestProxy(manifests, { redisUrl: redis.url });
});

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await proxy?.stop();
  await sim?.close();
  await redis?.close();
});

describe('Redis outage', () => {
  it('fails open with local limits or closed with 503 per policy, and recovers when Redis returns', async () => {
    expect(proxy.governance.stats().redis).toBe('up');
    expect((await chat(proxy.url, ask('open-model'))).status).toBe(200);
    expect((await chat(proxy.url, ask('closed-model'))).status).toBe(200);

    // A request in flight when Redis dies still completes (its settle fails quietly; its lease expires).
    sim.setTiming({ ttftMs: 1500 });
    const inflight = chat(proxy.url, ask('open-model'));
    await waitFor(() => sim.stats().running > 0, 5000, 'request in flight');
    await redis.stop();
    await waitFor(() => proxy.governance.stats().redis === 'down', 5000, 'redis down');
    sim.setTiming({ ttftMs: 0 });
    expect((await inflight).status).toBe(200);

    // Fail open: served, with this replica's own limiter (5 RPM, counted from zero locally).
    const open = [];
    for (let i = 0; i < 7; i++) open.push(await chat(proxy.url, ask('open-model')));
    expect(open.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 429, 429]);

    // Fail closed: 503, retryable later.
    const closed = await chat(proxy.url, ask('closed-model'));
    expect(closed.status).toBe(503);
    expect(closed.body).toMatchObject({ error: { code: 'rate_limiter_unavailable' } });
    expect(closed.headers.get('retry-after')).toBe('1');

    await redis.start();
    await waitFor(
      async () => (await chat(proxy.url, ask('closed-model'))).status === 200,
      15_000,
      'fail-closed policy to recover',
    );
    expect(proxy.governance.stats().redis).toBe('up');
    // Back on the shared (restarted, empty) counters.
    expect((await chat(proxy.url, ask('open-model'))).status).toBe(200);

    const failures = proxy.governance.stats().redisFailures;
    expect(failures.admit_open).toBeGreaterThanOrEqual(7);
    expect(failures.admit_closed).toBeGreaterThanOrEqual(1);
    expect(failures.settle_none).toBeGreaterThanOrEqual(1);
    expect(unhandled).toEqual([]);
  });
});
