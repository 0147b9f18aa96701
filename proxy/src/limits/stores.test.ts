import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../../test/support/redis.js';
import {
  startRedisCluster,
  startRedisSentinel,
  type TestRedisCluster,
  type TestRedisSentinel,
} from '../../../test/support/redis-topologies.js';
import { waitFor } from '../../../test/support/wait.js';
import { LocalLimitStore } from './local-store.js';
import { RedisClient } from './redis-client.js';
import { RedisLimitStore } from './redis-store.js';
import type { CounterSpec, LimitStore } from './types.js';

let redis: TestRedis;
let cluster: TestRedisCluster;
let sentinel: TestRedisSentinel;
let client: RedisClient;
let clusterClient: RedisClient;
let sentinelClient: RedisClient;
let prefixSeq = 0;

beforeAll(async () => {
  [redis, cluster, sentinel] = await Promise.all([startRedis(), startRedisCluster(), startRedisSentinel()]);
  const log = pino({ level: 'silent' });
  client = new RedisClient({ url: redis.url, log });
  clusterClient = new RedisClient({ url: cluster.url, log });
  sentinelClient = new RedisClient({ url: sentinel.url, log });
  for (const c of [client, clusterClient, sentinelClient]) expect(await c.ready(10_000)).toBe(true);
}, 90_000);
afterAll(async () => {
  await Promise.all([client, clusterClient, sentinelClient].map((c) => c?.close()));
  await Promise.all([redis?.close(), cluster?.close(), sentinel?.close()]);
});

const counter = (over: Partial<CounterSpec> & Pick<CounterSpec, 'key'>): CounterSpec => ({
  kind: 'window',
  metric: 'requests',
  scope: 'tenant',
  subject: 'team-a',
  limit: 3,
  amount: 1,
  param: 60_000,
  skipOnHit: false,
  ...over,
});

const stores: Array<[string, () => LimitStore]> = [
  ['redis', () => new RedisLimitStore(client)],
  ['redis cluster', () => new RedisLimitStore(clusterClient)],
  ['redis sentinel', () => new RedisLimitStore(sentinelClient)],
  ['local', () => new LocalLimitStore()],
];

describe.each(stores)('LimitStore (%s)', (_name, make) => {
  const k = (s: string) => `t${++prefixSeq}:${s}`;

  it('admits up to the window limit, then denies with a retry-after within the window', async () => {
    const store = make();
    const c = [counter({ key: k('rpm') })];
    for (let i = 0; i < 3; i++) {
      const r = await store.admit({ member: `m${i}`, counters: c });
      expect(r.allowed).toBe(true);
      expect(r.states[0]?.remaining).toBe(2 - i);
    }
    const denied = await store.admit({ member: 'm4', counters: c });
    expect(denied.allowed).toBe(false);
    expect(denied.denied).toBe(0);
    expect(denied.retryAfterMs).toBeGreaterThan(0);
    expect(denied.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(denied.states[0]?.remaining).toBe(0);
  });

  it('takes nothing when any counter denies (all or nothing)', async () => {
    const store = make();
    const a = counter({ key: k('a'), limit: 10 });
    const b = counter({ key: k('b'), limit: 1 });
    expect((await store.admit({ member: 'x', counters: [a, b] })).allowed).toBe(true);
    const r = await store.admit({ member: 'y', counters: [a, b] });
    expect(r.allowed).toBe(false);
    expect(r.denied).toBe(1);
    const again = await store.admit({ member: 'z', counters: [a] });
    expect(again.states[0]?.remaining).toBe(8);
  });

  it('reserves tokens and settles them to the real usage', async () => {
    const store = make();
    const tpm = counter({ key: k('tpm'), metric: 'tokens', limit: 1000, amount: 600, skipOnHit: true });
    const first = await store.admit({ member: 'r1', counters: [tpm] });
    expect(first.allowed).toBe(true);
    expect((await store.admit({ member: 'r2', counters: [tpm] })).allowed).toBe(false);
    await store.settle({ member: 'r1', admittedAt: first.nowMs, counters: [tpm], deltas: [100 - 600] });
    const second = await store.admit({ member: 'r3', counters: [tpm] });
    expect(second.allowed).toBe(true);
    expect(second.states[0]?.remaining).toBe(300);
  });

  it('refuses a request bigger than the limit for good (retryAfter -1)', async () => {
    const store = make();
    const r = await store.admit({ member: 'big', counters: [counter({ key: k('tpm'), limit: 100, amount: 101 })] });
    expect(r.allowed).toBe(false);
    expect(r.retryAfterMs).toBe(-1);
  });

  it('limits concurrency and releases the lease on settle', async () => {
    const store = make();
    const conc = counter({ key: k('conc'), kind: 'concurrency', metric: 'concurrent', limit: 2, param: 60_000 });
    const a = await store.admit({ member: 'a', counters: [conc] });
    expect(a.allowed).toBe(true);
    expect((await store.admit({ member: 'b', counters: [conc] })).allowed).toBe(true);
    expect((await store.admit({ member: 'c', counters: [conc] })).allowed).toBe(false);
    await store.settle({ member: 'a', admittedAt: a.nowMs, counters: [conc], deltas: [0] });
    expect((await store.admit({ member: 'c', counters: [conc] })).allowed).toBe(true);
  });

  it('expires a lease never released after its safety TTL', async () => {
    const store = make();
    const conc = counter({ key: k('conc'), kind: 'concurrency', metric: 'concurrent', limit: 1, param: 150 });
    expect((await store.admit({ member: 'a', counters: [conc] })).allowed).toBe(true);
    expect((await store.admit({ member: 'b', counters: [conc] })).allowed).toBe(false);
    await waitFor(
      async () => (await store.admit({ member: 'b', counters: [conc] })).allowed,
      5000,
      'the unreleased lease to expire',
    );
  });

  it('checks budgets (fixed period) even for zero-amount cost counters', async () => {
    const store = make();
    const cost = counter({
      key: k('cost'),
      kind: 'fixed',
      metric: 'costPerMonth',
      limit: 50,
      amount: 0,
      param: 86_400_000,
    });
    const r = await store.admit({ member: 'a', counters: [cost] });
    expect(r.allowed).toBe(true);
    await store.settle({ member: 'a', admittedAt: r.nowMs, counters: [cost], deltas: [50] });
    const denied = await store.admit({ member: 'b', counters: [cost] });
    expect(denied.allowed).toBe(false);
    expect(denied.retryAfterMs).toBe(86_400_000);
  });

  it('returns a cached entry with admission and skips token counters on a hit', async () => {
    const store = make();
    const rpm = counter({ key: k('rpm'), limit: 10 });
    const tpm = counter({ key: k('tpm'), metric: 'tokens', limit: 1000, amount: 400, skipOnHit: true });
    const cacheKey = k('cache');
    const miss = await store.admit({ member: 'a', counters: [rpm, tpm], cacheKey });
    expect(miss.cached).toBeUndefined();
    await store.settle({
      member: 'a',
      admittedAt: miss.nowMs,
      counters: [rpm, tpm],
      deltas: [0, 0],
      cacheStore: { key: cacheKey, value: 'stored answer', ttlMs: 60_000 },
    });
    const hit = await store.admit({ member: 'b', counters: [rpm, tpm], cacheKey });
    expect(hit.cached).toBe('stored answer');
    expect(hit.states[0]?.remaining).toBe(8);
    expect(hit.states[1]?.remaining).toBe(600);
  });
});

describe('RedisLimitStore', () => {
  it('uses one round-trip per admission', async () => {
    const store = new RedisLimitStore(client);
    const c = [
      counter({ key: 'rt:rpm', limit: 100 }),
      counter({ key: 'rt:tpm', metric: 'tokens', limit: 1e6, amount: 50 }),
    ];
    await store.admit({ member: 'warm', counters: c, cacheKey: 'rt:c' });
    const before = client.commands;
    for (let i = 0; i < 10; i++) await store.admit({ member: `m${i}`, counters: c, cacheKey: 'rt:c' });
    expect(client.commands - before).toBe(10);
  });
});

describe('RedisLimitStore on a Redis Cluster', () => {
  it('takes the counters of each hash slot in one script, and gives them back when another slot denies', async () => {
    const store = new RedisLimitStore(clusterClient);
    const [ka, kb] = ['{give-a}:rpm', '{give-b}:conc'];
    expect(await cluster.masterOf(ka)).toBeDefined();
    const a = counter({ key: ka, limit: 5 });
    const conc = counter({ key: kb, kind: 'concurrency', metric: 'concurrent', limit: 1, param: 60_000 });
    const before = clusterClient.commands;
    expect((await store.admit({ member: 'x', counters: [a, conc] })).allowed).toBe(true);
    expect(clusterClient.commands - before).toBe(2); // one script per slot, sent together
    const denied = await store.admit({ member: 'y', counters: [a, conc] });
    expect(denied).toMatchObject({ allowed: false, denied: 1 });
    // y's request was given back: 4 left of 5 (only x's), not 3
    const probe = await store.admit({ member: 'z', counters: [a] });
    expect(probe.states[0]?.remaining).toBe(3);
  });

  it('looks the cache up first and, on a hit, takes no token counters', async () => {
    const store = new RedisLimitStore(clusterClient);
    const tpm = counter({ key: '{hit}:tpm', metric: 'tokens', limit: 1000, amount: 400, skipOnHit: true });
    await store.settle({
      member: 'm',
      admittedAt: Date.now(),
      counters: [],
      deltas: [],
      cacheStore: { key: 'sy:c:hit-entry', value: 'answer', ttlMs: 60_000 },
    });
    const hit = await store.admit({ member: 'h', counters: [tpm], cacheKey: 'sy:c:hit-entry' });
    expect(hit).toMatchObject({ allowed: true, cached: 'answer' });
    expect(hit.states[0]?.remaining).toBe(1000);
  });

  it('checks and seeds budgets slot by slot, giving back what other slots took while one is unseeded', async () => {
    const store = new RedisLimitStore(clusterClient);
    const budget = (key: string) =>
      counter({ key, kind: 'fixed', metric: 'tokensPerDay', limit: 1000, amount: 100, param: 86_400_000 });
    const [a, b] = [budget('{seed-a}:tpd'), budget('{seed-b}:tpd')];
    const rpm = counter({ key: '{seed-c}:rpm', limit: 10 });
    const first = await store.admit({ member: 'x', counters: [a, b, rpm], checkSeeded: true });
    expect(first.unseeded?.sort()).toEqual([0, 1]);
    expect((await store.admit({ member: 'p', counters: [rpm] })).states[0]?.remaining).toBe(9); // rpm given back
    await store.seed([a, b], [300, 500]);
    const second = await store.admit({ member: 'y', counters: [a, b], checkSeeded: true });
    expect(second.allowed).toBe(true);
    expect(second.states.map((s) => s.remaining)).toEqual([600, 400]);
  });
});
