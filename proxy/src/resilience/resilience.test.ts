import { describe, expect, it } from 'vitest';
import type { PoolConfig } from '../../../shared/src/proxyconfig/index.js';
import type { PoolRuntime } from '../config/runtime.js';
import { errors } from '../errors.js';
import type { AttemptOutcome } from '../pipeline/types.js';
import { WeightedRandom } from '../scheduling/random.js';
import { fakeMembers } from '../scheduling/test-members.js';
import { latencyEstimate, recordLatency } from './latency.js';
import { recordOutcome } from './outlier-detection.js';
import { RetryBudget } from './retry-budget.js';

const failure: AttemptOutcome = { kind: 'retry', cause: '5xx', error: errors.badGateway('boom') };
const ok: AttemptOutcome = { kind: 'done' };

function pool(size: number, od: Partial<PoolConfig['outlierDetection']> = {}): PoolRuntime {
  const members = fakeMembers(Array.from({ length: size }, () => 1));
  const outlierDetection = {
    consecutiveFailures: 3,
    baseEjectionMs: 1000,
    maxEjectionMs: 5000,
    maxEjectionPercent: 50,
    ...od,
  };
  return {
    config: { outlierDetection } as PoolConfig,
    tiers: [{ priority: 0, members, scheduler: new WeightedRandom(members) }],
  };
}

describe('outlier detection', () => {
  it('ejects after consecutive failures, for a time that doubles on repeat', () => {
    const p = pool(4);
    const e = p.tiers[0]?.members[0]?.endpoint;
    if (!e) throw new Error('no endpoint');
    const t0 = 1_000_000;
    expect(recordOutcome(e, p, failure, t0)).toBeUndefined();
    expect(recordOutcome(e, p, failure, t0)).toBeUndefined();
    expect(recordOutcome(e, p, failure, t0)).toBe(1000);
    expect(e.available(t0 + 999)).toBe(false);
    expect(e.available(t0 + 1000)).toBe(true);
    const t1 = t0 + 1000;
    for (let i = 0; i < 2; i++) recordOutcome(e, p, failure, t1);
    expect(recordOutcome(e, p, failure, t1)).toBe(2000);
  });

  it('a success resets the failure streak', () => {
    const p = pool(4);
    const e = p.tiers[0]?.members[0]?.endpoint;
    if (!e) throw new Error('no endpoint');
    recordOutcome(e, p, failure, 1);
    recordOutcome(e, p, failure, 1);
    recordOutcome(e, p, ok, 1);
    expect(recordOutcome(e, p, failure, 1)).toBeUndefined();
    expect(e.consecutiveFailures).toBe(1);
  });

  it('never ejects more than maxEjectionPercent of the pool', () => {
    const p = pool(4, { maxEjectionPercent: 50 });
    const now = 5_000_000;
    const ejected = (p.tiers[0]?.members ?? []).map((m) => {
      let d: number | undefined;
      for (let i = 0; i < 3; i++) d = recordOutcome(m.endpoint, p, failure, now);
      return d !== undefined;
    });
    expect(ejected.filter(Boolean)).toHaveLength(2);
  });

  it('an actively checked endpoint stays out until a check succeeds', () => {
    const p = pool(2);
    const e = p.tiers[0]?.members[0]?.endpoint;
    if (!e) throw new Error('no endpoint');
    e.activelyChecked = true;
    for (let i = 0; i < 3; i++) recordOutcome(e, p, failure, 0);
    expect(e.available(10_000)).toBe(false);
    e.awaitingHealthCheck = false;
    expect(e.available(10_000)).toBe(true);
  });

  it('a 429 blocks the endpoint until its Retry-After without counting as a failure', () => {
    const p = pool(2);
    const e = p.tiers[0]?.members[0]?.endpoint;
    if (!e) throw new Error('no endpoint');
    recordOutcome(e, p, { kind: 'retry', cause: '429', error: errors.badGateway('x'), retryAfterMs: 2000 }, 0);
    expect(e.available(1999)).toBe(false);
    expect(e.available(2000)).toBe(true);
    expect(e.consecutiveFailures).toBe(0);
  });
});

describe('retry budget', () => {
  it('allows retries up to the ratio of requests plus the per-second minimum', () => {
    const b = new RetryBudget({ ratio: 0.2, minPerSecond: 0 });
    const now = 1_000_000;
    for (let i = 0; i < 100; i++) b.recordRequest(now);
    let allowed = 0;
    for (let i = 0; i < 100; i++) if (b.tryRetry(now)) allowed++;
    expect(allowed).toBe(20);
    const withMin = new RetryBudget({ ratio: 0, minPerSecond: 3 });
    let n = 0;
    for (let i = 0; i < 10; i++) if (withMin.tryRetry(now)) n++;
    expect(n).toBe(3);
    expect(withMin.tryRetry(now + 1000)).toBe(true);
  });

  it('forgets requests and retries older than the window', () => {
    const b = new RetryBudget({ ratio: 0.5, minPerSecond: 0 });
    for (let i = 0; i < 10; i++) b.recordRequest(0);
    expect(b.tryRetry(0)).toBe(true);
    expect(b.tryRetry(11_000)).toBe(false);
  });
});

describe('peak EWMA latency', () => {
  it('jumps up to a slow sample, decays towards fast ones and while idle', () => {
    const e = fakeMembers([1])[0]?.endpoint;
    if (!e) throw new Error('no endpoint');
    recordLatency(e, 100, 1000);
    recordLatency(e, 1000, 1001);
    expect(latencyEstimate(e, 1001)).toBe(1000);
    recordLatency(e, 100, 11_001);
    expect(latencyEstimate(e, 11_001)).toBeLessThan(500);
    expect(latencyEstimate(e, 60_000)).toBeLessThan(10);
  });
});
