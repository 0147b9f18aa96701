import { describe, expect, it } from 'vitest';
import type { PoolMember } from '../endpoints/member.js';
import type { EndpointState } from '../endpoints/state.js';
import { LeastConnections } from './least-connections.js';
import { PeakEwmaP2C } from './peak-ewma.js';
import { WeightedRandom } from './random.js';
import { fakeBackend, fakeMembers } from './testing/members.js';
import type { PickContext, Scheduler } from './types.js';
import { WeightedRoundRobin } from './weighted-round-robin.js';

const NONE: ReadonlySet<EndpointState> = new Set();
const ctx = (now = Date.now(), exclude = NONE): PickContext => ({ now, exclude });

const WEIGHTS = [1, 2, 3, 4];
const SHARES = WEIGHTS.map((w) => w / 10);

/** Share of picks per member index. */
function shares(members: PoolMember[], picked: PoolMember[]): number[] {
  return members.map((m) => picked.filter((p) => p === m).length / picked.length);
}

function expectShares(actual: number[], expected = SHARES) {
  for (const [i, s] of expected.entries()) expect(Math.abs((actual[i] ?? 0) - s)).toBeLessThanOrEqual(0.02);
}

const build: Record<string, (m: PoolMember[]) => Scheduler> = {
  'weighted-round-robin': (m) => new WeightedRoundRobin(m),
  random: (m) => new WeightedRandom(m),
  'peak-ewma': (m) => new PeakEwmaP2C(m),
  'least-connections': (m) => new LeastConnections(m),
};

describe('scheduling strategies', () => {
  for (const name of ['weighted-round-robin', 'random', 'peak-ewma'] as const) {
    it(`${name}: 10,000 picks follow the weights within 2%`, () => {
      const members = fakeMembers(WEIGHTS);
      const s = build[name]?.(members) as Scheduler;
      const picked: PoolMember[] = [];
      for (let i = 0; i < 10_000; i++) picked.push(s.pick(ctx()) as PoolMember);
      expectShares(shares(members, picked));
    });
  }

  it('least-connections: with 40 requests in flight, 10,000 picks follow the weights within 2%', () => {
    const members = fakeMembers(WEIGHTS);
    const s = new LeastConnections(members);
    const inflight: PoolMember[] = [];
    const picked: PoolMember[] = [];
    for (let i = 0; i < 10_000; i++) {
      const m = s.pick(ctx()) as PoolMember;
      m.endpoint.acquire();
      inflight.push(m);
      picked.push(m);
      if (inflight.length > 40) {
        // Equal service times: the oldest request completes first.
        (inflight.shift() as PoolMember).endpoint.release();
      }
    }
    expectShares(shares(members, picked));
  });

  it('least-connections: breaks ties uniformly at random', () => {
    const members = fakeMembers([1, 1, 1]);
    const s = new LeastConnections(members);
    const counts = new Map<PoolMember, number>();
    let repeats = 0;
    let last: PoolMember | undefined;
    for (let i = 0; i < 3000; i++) {
      const m = s.pick(ctx()) as PoolMember;
      counts.set(m, (counts.get(m) ?? 0) + 1);
      if (m === last) repeats++;
      last = m;
    }
    // Each ≈ 1000 (sd ≈ 26) and, unlike a rotation, the same member twice in a row about a third of the time.
    for (const m of members) expect(counts.get(m)).toBeGreaterThan(800);
    for (const m of members) expect(counts.get(m)).toBeLessThan(1200);
    expect(repeats).toBeGreaterThan(800);
    expect(repeats).toBeLessThan(1200);
  });

  it('least-connections: picks the member with the fewest in-flight per weight; ties are shared', () => {
    const members = fakeMembers([1, 1, 1]);
    const s = new LeastConnections(members);
    const [a, b, c] = members as [PoolMember, PoolMember, PoolMember];
    a.endpoint.acquire();
    b.endpoint.acquire();
    expect(s.pick(ctx())).toBe(c);
    c.endpoint.acquire();
    c.endpoint.acquire();
    const seen = new Set<PoolMember>();
    for (let i = 0; i < 200; i++) {
      const m = s.pick(ctx()) as PoolMember;
      seen.add(m);
      m.endpoint.acquire(); // a request's life re-draws its tie-break
      m.endpoint.release();
    }
    expect(seen).toEqual(new Set([a, b]));
    a.endpoint.release();
    expect(s.pick(ctx())).toBe(a);
  });

  it('weighted-round-robin interleaves smoothly', () => {
    const members = fakeMembers([5, 1, 1]);
    const s = new WeightedRoundRobin(members);
    const seq = Array.from({ length: 70 }, () => members.indexOf(s.pick(ctx()) as PoolMember));
    // Never more than ceil(5/2)+1 heavy picks in a row, and each light member every 7 picks.
    let run = 0;
    let longest = 0;
    for (const x of seq) {
      run = x === 0 ? run + 1 : 0;
      longest = Math.max(longest, run);
    }
    expect(longest).toBeLessThanOrEqual(5);
    for (let w = 0; w + 7 <= seq.length; w += 7) expect(new Set(seq.slice(w, w + 7)).size).toBeGreaterThan(1);
    expect(seq.filter((x) => x === 1).length).toBe(10);
  });

  for (const name of Object.keys(build)) {
    it(`${name}: skips unavailable and excluded members and brings them back`, () => {
      const members = fakeMembers([1, 1, 1, 1], fakeBackend('ns/b', 2));
      const s = build[name]?.(members) as Scheduler;
      const [a, b, c, d] = members as [PoolMember, PoolMember, PoolMember, PoolMember];
      // Time is what the picks say, not the system clock's: a clock far from it brings members back all the same.
      const now = 5_000;
      a.endpoint.health = 'unhealthy';
      a.endpoint.notify();
      b.endpoint.ejectedUntil = now + 1000;
      b.endpoint.notify();
      c.endpoint.acquire();
      c.endpoint.acquire(); // full
      for (let i = 0; i < 50; i++) expect(s.pick(ctx(now))).toBe(d);
      expect(s.pick(ctx(now, new Set([d.endpoint])))).toBeUndefined();
      // Back: c frees its slots (notified), b's ejection ends (time), a turns healthy (notified).
      c.endpoint.release();
      c.endpoint.release();
      a.endpoint.health = 'healthy';
      a.endpoint.notify();
      const later = now + 1001;
      const seen = new Set<PoolMember>();
      for (let i = 0; i < 400; i++) {
        const m = s.pick(ctx(later)) as PoolMember;
        seen.add(m);
        if (name === 'least-connections') {
          m.endpoint.acquire();
          m.endpoint.release();
        }
      }
      expect(seen).toEqual(new Set([a, b, c, d]));
      // Excluded members are put back after the pick.
      expect(s.pick(ctx(later, new Set([a.endpoint, b.endpoint, d.endpoint])))).toBe(c);
      const again = new Set<PoolMember>();
      for (let i = 0; i < 400; i++) {
        const m = s.pick(ctx(later)) as PoolMember;
        again.add(m);
        m.endpoint.acquire();
        m.endpoint.release();
      }
      expect(again.size).toBe(4);
    });
  }

  it('peak-ewma prefers the faster of two and avoids a slow endpoint', () => {
    const members = fakeMembers([1, 1]);
    const [fast, slow] = members as [PoolMember, PoolMember];
    const now = Date.now();
    fast.endpoint.ewmaMs = 100;
    fast.endpoint.ewmaAt = now;
    slow.endpoint.ewmaMs = 2000;
    slow.endpoint.ewmaAt = now;
    const s = new PeakEwmaP2C(members);
    for (let i = 0; i < 100; i++) expect(s.pick(ctx(now))).toBe(fast);
  });

  it('disposed least-connections still picks correctly', () => {
    const members = fakeMembers([1, 1]);
    const s = new LeastConnections(members);
    s.dispose();
    const [a, b] = members as [PoolMember, PoolMember];
    a.endpoint.acquire();
    expect(s.pick(ctx())).toBe(b);
  });

  it('zero-weight members are never picked', () => {
    for (const make of Object.values(build)) {
      const members = fakeMembers([0, 1]);
      const s = make(members);
      for (let i = 0; i < 20; i++) expect(s.pick(ctx())).toBe(members[1]);
    }
  });
});
