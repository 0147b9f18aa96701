import { describe, expect, it } from 'vitest';
import { type FleetView, fleetShare, fleetView } from './fleet.js';

const views = (proxies: number): FleetView[] => Array.from({ length: proxies }, (_, ordinal) => ({ proxies, ordinal }));
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('fleetShare', () => {
  it('gives the whole number to a proxy without a view, and keeps Infinity', () => {
    expect(fleetShare(7, undefined, 'r')).toBe(7);
    expect(fleetShare(Number.POSITIVE_INFINITY, { proxies: 3, ordinal: 1 }, 'r')).toBe(Number.POSITIVE_INFINITY);
  });

  it('splits a number so the shares of all proxies add up to exactly it, none differing by more than one', () => {
    for (const proxies of [1, 2, 3, 4, 7, 16, 100])
      for (const total of [0, 1, 2, 5, 16, 17, 99, 1000])
        for (const salt of ['a', 'ns/backend|http://10.0.0.1:8000', 'l:ns/p:t:team']) {
          const shares = views(proxies).map((v) => fleetShare(total, v, salt));
          expect(sum(shares), `${total} over ${proxies} (${salt})`).toBe(total);
          expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1);
        }
  });

  it('spreads the remainders of different numbers over different proxies', () => {
    // 64 replicas with a cap of 1 over 16 proxies: each proxy should get some, not proxy 0 all of them.
    const perProxy = views(16).map((v) => sum(Array.from({ length: 64 }, (_, r) => fleetShare(1, v, `replica-${r}`))));
    expect(sum(perProxy)).toBe(64);
    expect(perProxy.filter((n) => n > 0).length).toBeGreaterThanOrEqual(12);
  });

  it('takes the smaller share while a rebalance is under way, whichever place each proxy holds', () => {
    // 3 proxies become 4 (proxy 3 new): during the transition, any mix of old and transitional views stays within.
    for (const total of [5, 8, 10, 13])
      for (const salt of ['x', 'y', 'z']) {
        const before = views(3).map((v) => fleetShare(total, v, salt));
        const during = views(3).map((v) =>
          fleetShare(total, { proxies: 4, ordinal: v.ordinal, previous: [{ proxies: 3, ordinal: v.ordinal }] }, salt),
        );
        const after = views(4).map((v) => fleetShare(total, v, salt));
        for (let i = 0; i < 3; i++) {
          expect(during[i]).toBeLessThanOrEqual(before[i] as number);
          expect(during[i]).toBeLessThanOrEqual(after[i] as number);
        }
        expect(sum(after)).toBe(total);
        // every mix of "still old" and "transitional" for the 3 old proxies (the new one has nothing yet)
        for (let mask = 0; mask < 8; mask++) {
          const mix = [0, 1, 2].map((i) => ((mask >> i) & 1 ? (during[i] as number) : (before[i] as number)));
          expect(sum(mix)).toBeLessThanOrEqual(total);
        }
        // then any mix of transitional and new, the new proxy included
        for (let mask = 0; mask < 8; mask++) {
          const mix = [0, 1, 2].map((i) => ((mask >> i) & 1 ? (during[i] as number) : (after[i] as number)));
          expect(sum(mix) + (after[3] as number)).toBeLessThanOrEqual(total);
        }
      }
  });

  it('rejects an ordinal outside the fleet', () => {
    expect(fleetView.safeParse({ proxies: 2, ordinal: 2 }).success).toBe(false);
    expect(fleetView.safeParse({ proxies: 2, ordinal: 1, previous: [{ proxies: 1, ordinal: 1 }] }).success).toBe(false);
    expect(fleetView.safeParse({ proxies: 2, ordinal: 1, previous: [{ proxies: 1, ordinal: 0 }] }).success).toBe(true);
    expect(fleetView.safeParse({ proxies: 2, ordinal: 1, previous: [] }).success).toBe(false);
  });
});
