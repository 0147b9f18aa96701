import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/clock.js';
import { useRedisClient } from '../../../test/support/redis-client.js';
import { admitWithFailureMode, type Stores } from './admission.js';
import { LocalLimitStore } from './local-store.js';
import { type BudgetUsage, type CoverageView, createBudgetRebuild } from './rebuild.js';
import { RedisLimitStore } from './redis-store.js';
import type { CounterSpec } from './types.js';

const log = pino({ level: 'silent' });
const file = useRedisClient(log);
let seq = 0;

const budget = (over: Partial<CounterSpec> = {}): CounterSpec => ({
  key: `rb${++seq}:tpd`,
  kind: 'fixed',
  metric: 'tokensPerDay',
  scope: 'tenant',
  subject: 'team-a',
  limit: 100,
  amount: 10,
  param: 3_600_000,
  skipOnHit: true,
  ledger: { periodStart: 0, policy: 'ns/p', tenant: { policy: 'ns/p', name: 'team-a' }, cost: false },
  ...over,
});

const config: CoverageView = {
  policies: [{ id: 'ns/p', pools: ['ns/chat', 'ns/embed'] }],
  pools: [
    { id: 'ns/chat', model: 'chat', aliases: ['assistant'] },
    { id: 'ns/embed', model: 'embed', aliases: [] },
  ],
};

describe('RedisLimitStore seeding', () => {
  it('reports unseeded budgets without taking anything, raises them once to the seed, and again after a flush', async () => {
    const store = new RedisLimitStore(file.client);
    const c = budget();
    const admit = () => store.admit({ member: 'm', counters: [c], checkSeeded: true });
    expect((await admit()).unseeded).toEqual([0]);
    expect(await file.redis.command(`EXISTS ${c.key}`)).toBe(':0\r\n');
    await store.seed([c], [60]);
    await store.seed([c], [90]); // already seeded: no effect
    const r = await admit();
    expect(r).toMatchObject({ allowed: true, states: [{ remaining: 30 }] });
    await file.redis.command('FLUSHALL');
    expect((await admit()).unseeded).toEqual([0]);
  });

  it('never lowers a counter and never adds twice: it takes the larger of Redis and the ledger', async () => {
    const store = new RedisLimitStore(file.client);
    const c = budget();
    await store.admit({ member: 'm', counters: [c] }); // 10 counted without a marker (e.g. before an upgrade)
    await store.seed([c], [8]);
    expect((await store.admit({ member: 'm', counters: [c], checkSeeded: true })).states[0]?.remaining).toBe(80);
  });
});

describe('budgets rebuilt from the ledger', () => {
  const queried: unknown[] = [];
  const usage: BudgetUsage = async (scope) => {
    queried.push(scope);
    return { tokens: 95, cost: 0.25 };
  };

  it('asks the ledger for the pools, caller and period the counter counts, in tokens or cost units', async () => {
    queried.length = 0;
    const rebuild = createBudgetRebuild({ usage, config: () => config, log, clock: new FakeClock(5000) });
    const tokens = budget({ ledger: { periodStart: 1000, policy: 'ns/p', keyId: 'k1', cost: false } });
    const cost = budget({
      metric: 'costPerDay',
      ledger: { periodStart: 1000, policy: 'ns/p', model: 'assistant', cost: true },
    });
    expect(await rebuild([tokens, cost])).toEqual([95, 250_000]);
    expect(queried).toEqual([
      { pools: ['ns/chat', 'ns/embed'], keyId: 'k1', tenant: undefined, from: new Date(1000), to: new Date(5000) },
      { pools: ['ns/chat'], keyId: undefined, tenant: undefined, from: new Date(1000), to: new Date(5000) },
    ]);
  });

  it('shares one query among concurrent requests, and backs off after a failure', async () => {
    let calls = 0;
    let release: (() => void) | undefined;
    const slow: BudgetUsage = () => {
      calls++;
      return new Promise((resolve) => {
        release = () => resolve({ tokens: 1, cost: 0 });
      });
    };
    const clock = new FakeClock(0);
    const results: string[] = [];
    const rebuild = createBudgetRebuild({
      usage: slow,
      config: () => config,
      log,
      clock,
      onResult: (r) => results.push(r),
    });
    const c = budget();
    const both = Promise.all([rebuild([c]), rebuild([c])]);
    release?.();
    expect(await both).toEqual([[1], [1]]);
    expect(calls).toBe(1);

    const failing = createBudgetRebuild({
      usage: () => Promise.reject(new Error('ledger down')),
      config: () => config,
      log,
      clock,
      retryAfterMs: 1000,
      onResult: (r) => results.push(r),
    });
    expect(await failing([c])).toBeUndefined();
    await clock.advance(500);
    expect(await failing([c])).toBeUndefined(); // not asked again yet
    expect(results).toEqual(['seeded', 'seeded', 'failed']);
  });

  it('gives the ledger its timeout on the clock, then lets the counter count from Redis alone', async () => {
    const clock = new FakeClock(0);
    const results: string[] = [];
    const rebuild = createBudgetRebuild({
      usage: () => new Promise(() => {}),
      config: () => config,
      log,
      clock,
      timeoutMs: 2000,
      onResult: (r) => results.push(r),
    });
    let answer: number[] | undefined | 'waiting' = 'waiting';
    void rebuild([budget({ ledger: { periodStart: 0, policy: 'ns/p', cost: false } })]).then((a) => {
      answer = a;
    });
    await clock.advance(1999);
    expect(answer).toBe('waiting');
    await clock.advance(1);
    expect(answer).toBeUndefined();
    expect(results).toEqual(['failed']);
  });

  it('admits against the rebuilt budget after Redis lost it, and against Redis alone when the ledger cannot tell', async () => {
    const shared = new RedisLimitStore(file.client);
    const stores: Stores = {
      shared,
      local: new LocalLimitStore(),
      onFailure: () => undefined,
      rebuild: createBudgetRebuild({ usage, config: () => config, log }),
    };
    const c = budget();
    const admit = () => admitWithFailureMode(stores, 'open', { member: 'm', counters: [c] });
    const first = await admit(); // 95 from the ledger + 10 reserved > 100
    expect(first.result).toMatchObject({ allowed: false, denied: 0 });
    await file.redis.command('FLUSHALL');
    expect((await admit()).result.allowed).toBe(false);

    const blind: Stores = { ...stores, rebuild: async () => undefined };
    const d = budget();
    expect((await admitWithFailureMode(blind, 'open', { member: 'm', counters: [d] })).result.allowed).toBe(true);
  });
});
