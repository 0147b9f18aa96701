import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../../test/support/redis.js';
import { LocalLimitStore } from './local-store.js';
import { RedisClient } from './redis-client.js';
import { RedisLimitStore } from './redis-store.js';
import type { CounterSpec, LimitStore } from './types.js';

let redis: TestRedis;
let client: RedisClient;
let prefixSeq = 0;

beforeAll(async () => {
  redis = await startRedis();
  client = new RedisClient({ url: redis.url, log: pino({ level: 'silent' }) });
  await client.ready(5000);
});
afterAll(async () => {
  await client?.close();
  await redis?.close();
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
    const end = Date.now() + 5000;
    let ok = false;
    while (!ok && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 50));
      ok = (await store.admit({ member: 'b', counters: [conc] })).allowed;
    }
    expect(ok).toBe(true);
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
