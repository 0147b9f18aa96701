/**
 * Limits across a fleet of proxies on Redis Sentinel and Redis Cluster, through a master failover during traffic:
 * two proxies share a fail-closed limit; the master holding its counter is killed while requests keep coming; while
 * the failover runs requests get 503 (never a 500), then the promoted replica serves the counters and the limit
 * holds for the fleet: never more than the limit (up to the one admission a crash can catch unreplicated), and no
 * fewer than the limit less the requests whose 503 came from a timed-out command the dead master may have counted. A fail-open policy, Redis
 * down, holds each proxy to its share of the limit.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../sim/index.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import {
  startRedisCluster,
  startRedisSentinel,
  type TestRedisCluster,
  type TestRedisSentinel,
} from '../support/redis-topologies.js';
import { waitFor } from '../support/wait.js';
import { ask, backendAndPool, chat, routePolicy } from './governance-fixtures.js';

const LIMIT = 40;
const OPEN_LIMIT = 12;
/** The Redis key of the fail-closed policy's global counter (counters.ts): its master is the one killed. */
const CLOSED_COUNTER = 'switchyard:l:{default/closed|g}:r0:rpm';

let sim: Simulator;
let cluster: TestRedisCluster;
let sentinel: TestRedisSentinel;
let single: TestRedis;
const proxies: TestProxy[] = [];

const manifests = (): string =>
  [
    backendAndPool('closed', 'closed-model', [sim.url]),
    backendAndPool('open', 'open-model', [sim.url]),
    routePolicy(
      'closed',
      `  rules: [{ match: { model: { value: closed-model } } }]
  failureMode: closed
  rateLimits: [{ scope: global, limits: { requestsPerMinute: ${LIMIT} } }]`,
    ),
    routePolicy(
      'open',
      `  rules: [{ match: { model: { value: open-model } } }]
  failureMode: open
  rateLimits: [{ scope: global, limits: { requestsPerMinute: ${OPEN_LIMIT} } }]`,
    ),
  ].join('');

/** Two proxies of one fleet (standalone: --fleet-size 2) on `redisUrl`. */
async function fleetOf(redisUrl: string): Promise<TestProxy[]> {
  const pair = await Promise.all(
    [0, 1].map((ordinal) =>
      startTestProxy(manifests(), { redisUrl, redisCommandTimeoutMs: 500, fleet: { proxies: 2, ordinal } }),
    ),
  );
  proxies.push(...pair);
  for (const p of pair) await waitFor(() => p.governance.stats().redis === 'up', 15_000, 'redis up');
  return pair;
}

const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => unhandled.push(e);

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  sim = await startSimulator({ flavour: 'vllm' });
  [cluster, sentinel, single] = await Promise.all([startRedisCluster(), startRedisSentinel(), startRedis()]);
}, 120_000);

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await Promise.all(proxies.map((p) => p.stop()));
  await sim?.close();
  await Promise.all([cluster?.close(), sentinel?.close(), single?.close()]);
});

/**
 * Sends fail-closed requests alternately to both proxies while `failover` runs, then until the limit denies.
 * Returns the statuses seen and how many were admitted in all.
 */
async function trafficThroughFailover(pair: TestProxy[], failover: () => Promise<unknown>) {
  const statuses = new Map<number, number>();
  let admitted = 0;
  let n = 0;
  const send = async () => {
    const r = await chat((pair[n++ % 2] as TestProxy).url, ask('closed-model'));
    statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    if (r.status === 200) admitted++;
    if (r.status === 503) expect(r.body).toMatchObject({ error: { code: 'rate_limiter_unavailable' } });
    return r.status;
  };
  for (let i = 0; i < 10; i++) expect(await send()).toBe(200);
  let done = false;
  const running = failover().finally(() => {
    done = true;
  });
  // A 503 comes at once: pace the requests while the failover runs, as a client backing off would.
  while (!done) if ((await send()) === 503) await sleep(20);
  await running;
  // Recovered: admitted again, and the counter kept counting where it was.
  await waitFor(async () => (await send()) !== 503, 20_000, 'the promoted master to serve the counters');
  for (let i = 0; i < 2 * LIMIT && (await send()) !== 429; i++);
  return { statuses, admitted };
}

describe('limits on Redis Sentinel and Cluster', () => {
  const topologies: Array<[string, () => string, () => Promise<unknown>]> = [
    ['Sentinel: the master', () => sentinel.url, () => sentinel.killMaster()],
    ['Cluster: the master of the counter slot', () => cluster.url, () => cluster.killMasterOf(CLOSED_COUNTER)],
  ];
  it.each(topologies)(
    '%s fails over during traffic: 503s while it runs, then the fleet-wide limit holds',
    async (_name, url, failover) => {
      const pair = await fleetOf(url());
      const { statuses, admitted } = await trafficThroughFailover(pair, failover);
      expect([...statuses.keys()].every((s) => s === 200 || s === 503 || s === 429)).toBe(true);
      expect(statuses.get(429)).toBeGreaterThan(0);
      expect(admitted).toBeLessThanOrEqual(LIMIT + 1);
      // A request that timed out may still have been counted by the master before it died: conservative.
      expect(admitted).toBeGreaterThanOrEqual(LIMIT - (statuses.get(503) ?? 0));
      expect(unhandled).toEqual([]);
    },
    120_000,
  );

  it('fail-open with Redis down: each proxy admits its share of the limit, the fleet no more than the limit', async () => {
    const pair = await fleetOf(single.url);
    await single.stop();
    for (const p of pair) await waitFor(() => p.governance.stats().redis === 'down', 10_000, 'redis down');
    const admittedBy = [0, 0];
    for (let i = 0; i < 2 * OPEN_LIMIT; i++) {
      const r = await chat((pair[i % 2] as TestProxy).url, ask('open-model'));
      expect([200, 429]).toContain(r.status);
      if (r.status === 200) admittedBy[i % 2] = (admittedBy[i % 2] ?? 0) + 1;
    }
    expect(admittedBy).toEqual([OPEN_LIMIT / 2, OPEN_LIMIT / 2]);
    await single.start();
  }, 60_000);
});
