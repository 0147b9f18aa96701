import { describe, expect, it } from 'vitest';
import type { PoolConfig } from '../../../shared/src/proxyconfig/index.js';
import type { AttemptOutcome } from '../call/outcome.js';
import type { PoolRuntime } from '../config/runtime.js';
import { latencyEstimate, MAX_LATENCY_MS, recordFailureLatency, recordLatency } from '../endpoints/latency.js';
import { errors } from '../errors.js';
import { perOperation } from '../protocols/catalog.js';
import { WeightedRandom } from '../scheduling/random.js';
import { fakeMembers } from '../scheduling/testing/members.js';
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
    support: perOperation(() => ({ servable: true, unservable: new Set(), provider: undefined })),
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

describe('outlier detection: streams, Retry-After on 5xx, ejection time', () => {
  const endpointOf = (p: PoolRuntime) => {
    const e = p.tiers[0]?.members[0]?.endpoint;
    if (!e) throw new Error('no endpoint');
    return e;
  };

  it('a stream the upstream broke counts as a failure; one the client left does not', () => {
    const p = pool(4);
    const e = endpointOf(p);
    const broken: AttemptOutcome = { kind: 'done', streamError: errors.badGateway('cut'), incomplete: true };
    const clientLeft: AttemptOutcome = { kind: 'done', incomplete: true };
    recordOutcome(e, p, broken, 0);
    recordOutcome(e, p, broken, 0);
    expect(e.consecutiveFailures).toBe(2);
    recordOutcome(e, p, clientLeft, 0);
    expect(e.consecutiveFailures).toBe(0);
    for (let i = 0; i < 2; i++) recordOutcome(e, p, broken, 0);
    expect(recordOutcome(e, p, broken, 0)).toBe(1000);
  });

  it('a 503 with Retry-After blocks the endpoint until then and counts as a failure', () => {
    const p = pool(4);
    const e = endpointOf(p);
    const busy: AttemptOutcome = {
      kind: 'retry',
      cause: '5xx',
      error: errors.unavailable('loading'),
      retryAfterMs: 3000,
    };
    recordOutcome(e, p, busy, 10_000);
    expect(e.consecutiveFailures).toBe(1);
    expect(e.available(12_999)).toBe(false);
    expect(e.available(13_000)).toBe(true);
    // An absurd Retry-After is capped.
    recordOutcome(e, p, { ...busy, retryAfterMs: 86_400_000 }, 20_000);
    expect(e.limitedUntil).toBe(20_000 + 60_000);
  });

  it('ejection time doubles up to maxEjectionMs, and time back in service forgives earlier ejections', () => {
    const p = pool(4, { baseEjectionMs: 1000, maxEjectionMs: 5000 });
    const e = endpointOf(p);
    const eject = (now: number) => {
      let d: number | undefined;
      for (let i = 0; i < 3; i++) d = recordOutcome(e, p, failure, now);
      return d;
    };
    let now = 0;
    const durations: Array<number | undefined> = [];
    for (let k = 0; k < 5; k++) {
      const d = eject(now);
      durations.push(d);
      now += d ?? 0;
    }
    expect(durations).toEqual([1000, 2000, 4000, 5000, 5000]);
    // Ten base times (10 s) in service since the last ejection ended forgive all five earlier ejections.
    expect(eject(now + 10_000)).toBe(1000);
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

  it('stays finite and bounded through a long run of failures and recovers when the endpoint does', () => {
    const e = fakeMembers([1])[0]?.endpoint;
    if (!e) throw new Error('no endpoint');
    recordLatency(e, 50, 1000);
    // Failures count at least twice the estimate: 2,000 of them used to double it past Infinity (then NaN).
    for (let i = 0; i < 2000; i++) recordFailureLatency(e, 30, 1000 + i);
    const worst = latencyEstimate(e, 3000);
    expect(Number.isFinite(worst)).toBe(true);
    expect(worst).toBeLessThanOrEqual(MAX_LATENCY_MS);
    recordLatency(e, 40, 3_600_000);
    expect(latencyEstimate(e, 3_600_000)).toBeCloseTo(40, 0);
    recordLatency(e, Number.NaN, 3_600_001);
    expect(Number.isFinite(latencyEstimate(e, 3_600_001))).toBe(true);
  });
});
