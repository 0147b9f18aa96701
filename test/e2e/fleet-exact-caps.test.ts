/**
 * Exact fleet-wide replica caps (`maxConcurrencyMode: Exact`): two proxies of one fleet lease a replica's slots in a
 * shared Redis, so one proxy may use the whole cap while the other is idle (its share would be half), and together
 * they never exceed it; with Redis down each proxy falls back to its share; Redis killed mid-traffic costs no request,
 * and leasing resumes once it is back (`switchyard_exact_*` metrics).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../sim/index.js';
import { poolManifests } from '../support/manifests.js';
import { scrape } from '../support/metrics-scrape.js';
import { sampleSum } from '../support/prom-text.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

const CAP = 4;
let redis: TestRedis;
let sim: Simulator;
let proxies: TestProxy[];

beforeAll(async () => {
  redis = await startRedis();
  // ~1 s per request, far more slots than the cap: only the proxies keep the replica within it.
  sim = await startSimulator({ flavour: 'vllm', models: ['m'], itlMs: 40, outputTokens: 24 });
  const manifests = poolManifests({
    name: 'exact',
    model: 'm',
    urls: [`${sim.url}/v1`],
    backendSpec: `  maxConcurrency: ${CAP}\n  maxConcurrencyMode: Exact\n  healthCheck: { enabled: false }`,
    poolSpec: '  scheduling: { queue: { maxSize: 100, timeout: 60s } }',
  });
  proxies = await Promise.all(
    [0, 1].map((ordinal) => startTestProxy(manifests, { redisUrl: redis.url, fleet: { proxies: 2, ordinal } })),
  );
  for (const p of proxies) await waitFor(() => p.governance.stats().redis === 'up', 10_000, 'redis up');
});

afterAll(async () => {
  await Promise.all((proxies ?? []).map((p) => p.stop()));
  await sim?.close();
  await redis?.close();
});

/** `n` requests at once, spread over `targets` in turn; their statuses. */
const burst = (n: number, targets: TestProxy[]) =>
  Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const p = targets[i % targets.length] as TestProxy;
      const res = await fetch(`${p.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: `q${i}` }] }),
      });
      await res.text();
      return res.status;
    }),
  );

describe('exact fleet-wide replica caps', () => {
  it('lets one proxy use the whole cap, and both together no more than it', async () => {
    sim.resetStats();
    expect(await burst(8, [proxies[0] as TestProxy])).toEqual(Array(8).fill(200));
    expect(sim.stats().peakConcurrent).toBe(CAP); // its share would be 2
    sim.resetStats();
    expect(await burst(16, proxies)).toEqual(Array(16).fill(200));
    expect(sim.stats().peakConcurrent).toBe(CAP);
  }, 60_000);

  it('falls back to each proxy’s share while Redis is down', async () => {
    await redis.stop();
    for (const p of proxies) await waitFor(() => p.governance.stats().redis === 'down', 10_000, 'redis down');
    sim.resetStats();
    expect(await burst(6, [proxies[0] as TestProxy])).toEqual(Array(6).fill(200));
    expect(sim.stats().peakConcurrent).toBe(CAP / 2);
    await redis.start();
  }, 60_000);

  it('serves every request when Redis dies mid-traffic, and leases the whole cap again once it is back', async () => {
    const metric = async (p: TestProxy, name: string, labels: Record<string, string> = {}) =>
      sampleSum(await scrape(p.adminUrl), name, labels);
    const fleetSum = async (name: string, labels: Record<string, string> = {}) =>
      (await Promise.all(proxies.map((p) => metric(p, name, labels)))).reduce((a, b) => a + b, 0);
    for (const p of proxies)
      await waitFor(async () => (await metric(p, 'switchyard_exact_mode_active')) === 1, 15_000, 'exact mode on');
    sim.resetStats();
    const downBefore = await fleetSum('switchyard_exact_lease_fallbacks_total', { reason: 'down' });
    const traffic = burst(16, proxies);
    await waitFor(() => sim.stats().running === CAP, 20_000, 'the cap in use');
    expect(sim.stats().peakConcurrent).toBe(CAP); // leased: never more while Redis is up
    await redis.stop();
    sim.resetStats();
    // The requests queued behind the cap are sent within each proxy's share: none fails because Redis did.
    expect(await traffic).toEqual(Array(16).fill(200));
    // The leased requests still running plus the shares: at most twice the cap at the switch (docs/fleet.md).
    expect(sim.stats().peakConcurrent).toBeLessThanOrEqual(2 * CAP);
    expect(await fleetSum('switchyard_exact_lease_fallbacks_total', { reason: 'down' })).toBeGreaterThan(downBefore);
    for (const p of proxies) expect(await metric(p, 'switchyard_exact_mode_active')).toBe(0);

    await redis.start();
    for (const p of proxies)
      await waitFor(async () => (await metric(p, 'switchyard_exact_mode_active')) === 1, 15_000, 'exact mode on again');
    const grantedBefore = await fleetSum('switchyard_exact_leases_total', { result: 'granted' });
    sim.resetStats();
    expect(await burst(8, [proxies[0] as TestProxy])).toEqual(Array(8).fill(200));
    expect(sim.stats().peakConcurrent).toBe(CAP); // one proxy alone uses the whole cap again: leased, not shared
    expect(await fleetSum('switchyard_exact_leases_total', { result: 'granted' })).toBeGreaterThanOrEqual(
      grantedBefore + 8,
    );
  }, 90_000);
});
