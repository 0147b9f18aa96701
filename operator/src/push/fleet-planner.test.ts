import { describe, expect, it } from 'vitest';
import { type FleetView, fleetShare } from '../../../shared/src/index.js';
import { FleetPlanner, type Planned } from './fleet-planner.js';

/** A planner that has seen every proxy report (`views`: name → what it applies; null: serves nothing). */
function planner(views: Record<string, FleetView | undefined | null>, opts: { now?: () => number } = {}) {
  const p = new FleetPlanner({ timeoutMs: 1000, ...opts });
  p.setRelevant(true);
  p.setMembers(Object.keys(views), Object.keys(views));
  for (const [n, v] of Object.entries(views)) p.report(n, v !== null, v ?? undefined);
  return p;
}
const viewOf = (plan: Planned) => (plan === 'wait' ? 'wait' : plan.view);

describe('FleetPlanner', () => {
  it('gives every proxy its place, sorted by name, and none to a lone proxy', () => {
    const p = planner({ b: undefined, a: undefined });
    p.advance();
    expect(viewOf(p.plan('a'))).toEqual({ proxies: 2, ordinal: 0 });
    expect(viewOf(p.plan('b'))).toEqual({ proxies: 2, ordinal: 1 });
    const lone = planner({ a: undefined });
    lone.advance();
    expect(viewOf(lone.plan('a'))).toBeUndefined();
  });

  it('scale-up: the new proxy waits until the others acknowledged their smaller share, then all take their place', () => {
    const p = planner({ a: { proxies: 2, ordinal: 0 }, b: { proxies: 2, ordinal: 1 } });
    expect(p.advance()).toBe(false);
    p.setMembers(['a', 'b', 'c'], ['a', 'b', 'c']);
    p.report('c', false, undefined);
    expect(viewOf(p.plan('a'))).toEqual({ proxies: 3, ordinal: 0, previous: [{ proxies: 2, ordinal: 0 }] });
    expect(viewOf(p.plan('c'))).toBe('wait');
    expect(p.rebalancing).toBe(true);
    p.report('a', true, { proxies: 3, ordinal: 0, previous: [{ proxies: 2, ordinal: 0 }] });
    expect(p.advance()).toBe(false); // b has not acknowledged yet
    // b took its smaller share but still finishes requests sent under the larger one
    p.report('b', true, { proxies: 3, ordinal: 1, previous: [{ proxies: 2, ordinal: 1 }] }, false);
    expect(p.advance()).toBe(false);
    p.report('b', true, { proxies: 3, ordinal: 1, previous: [{ proxies: 2, ordinal: 1 }] }, true);
    expect(p.advance()).toBe(true);
    expect(['a', 'b', 'c'].map((n) => viewOf(p.plan(n)))).toEqual([
      { proxies: 3, ordinal: 0 },
      { proxies: 3, ordinal: 1 },
      { proxies: 3, ordinal: 2 },
    ]);
    expect(p.rebalancing).toBe(false);
  });

  it('scale-down: the others keep their smaller share until the terminating proxy is gone', () => {
    const p = planner({ a: { proxies: 2, ordinal: 0 }, b: { proxies: 2, ordinal: 1 } });
    p.setMembers(['a'], ['a', 'b']); // b terminating, still finishing requests
    p.report('a', true, viewOf(p.plan('a')) as FleetView);
    expect(viewOf(p.plan('a'))).toEqual({ proxies: 2, ordinal: 0 }); // its bound is its old place: no change yet
    expect(p.advance()).toBe(false);
    p.setMembers(['a'], ['a']); // b gone
    expect(p.advance()).toBe(true);
    expect(viewOf(p.plan('a'))).toBeUndefined(); // the whole fleet now
  });

  it('commits an overdue rebalance when a proxy neither acknowledges nor leaves', () => {
    let now = 0;
    const p = planner({ a: { proxies: 2, ordinal: 0 }, b: { proxies: 2, ordinal: 1 } }, { now: () => now });
    p.setMembers(['a', 'b', 'c'], ['a', 'b', 'c']);
    p.report('c', false, undefined);
    expect(p.deadline).toBe(1000);
    now = 999;
    expect(p.advance()).toBe(false);
    now = 1000;
    expect(p.advance()).toBe(true);
    expect(p.overdue).toBe(1);
    expect(viewOf(p.plan('c'))).toEqual({ proxies: 3, ordinal: 2 });
  });

  it('does not phase anything when the snapshot has no fleet-wide numbers', () => {
    const p = new FleetPlanner();
    p.setRelevant(false);
    p.setMembers(['a', 'b'], ['a', 'b']);
    expect(viewOf(p.plan('b'))).toBeUndefined();
    expect(p.rebalancing).toBe(false);
    // the first numbers arrive with a snapshot: nobody applies any yet, so each proxy gets its place at once
    p.setRelevant(true);
    expect(viewOf(p.plan('b'))).toEqual({ proxies: 2, ordinal: 1 });
  });

  it('starts from what proxies report after an operator restart, including a rebalance left half done', () => {
    const p = new FleetPlanner();
    p.setRelevant(true);
    p.setMembers(['a', 'b', 'c'], ['a', 'b', 'c']);
    expect(viewOf(p.plan('a'))).toBe('wait'); // nothing known yet
    expect(p.advance()).toBe(false);
    p.report('a', true, { proxies: 3, ordinal: 0, previous: [{ proxies: 2, ordinal: 0 }] });
    p.report('b', true, { proxies: 2, ordinal: 1 });
    expect(p.advance()).toBe(false); // c has not said anything yet
    p.report('c', false, undefined);
    expect(viewOf(p.plan('a'))).toEqual({ proxies: 3, ordinal: 0, previous: [{ proxies: 2, ordinal: 0 }] });
    expect(viewOf(p.plan('b'))).toEqual({ proxies: 3, ordinal: 1, previous: [{ proxies: 2, ordinal: 1 }] });
    expect(viewOf(p.plan('c'))).toBe('wait');
  });

  it('never lets the shares of the proxies add up to more than a number, over random scale events', () => {
    // A model of the fleet: each proxy applies some view (what it last acknowledged) or nothing; pushes land in a
    // random order and late. After every step the shares every present proxy may apply add up to at most the total.
    let seed = 42;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const totals = [1, 2, 3, 5, 8, 13, 64];
    for (let run = 0; run < 40; run++) {
      const p = new FleetPlanner({ timeoutMs: Number.POSITIVE_INFINITY });
      p.setRelevant(true);
      const applied = new Map<string, FleetView | undefined | null>(); // null: nothing (no traffic)
      let active = ['p0', 'p1'];
      let present = new Set(active);
      let next = 2;
      p.setMembers(active, present);
      for (const n of active) {
        applied.set(n, null);
        p.report(n, false, undefined);
      }
      const check = () => {
        for (const total of totals)
          for (const salt of ['r1', 'r2', 'r3']) {
            let sum = 0;
            for (const n of present) {
              const v = applied.get(n);
              if (v !== null && v !== undefined) sum += fleetShare(total, v, salt);
              else if (v === undefined) sum += total; // serves with no view: whole numbers
            }
            expect(sum, `run ${run}, total ${total}`).toBeLessThanOrEqual(total);
          }
      };
      for (let step = 0; step < 60; step++) {
        const r = rand(10);
        if (r < 2 && active.length < 6) {
          const n = `p${next++}`;
          active = [...active, n];
          present.add(n);
          applied.set(n, null);
          p.setMembers(active, present);
          p.report(n, false, undefined);
        } else if (r < 3 && active.length > 1) {
          active = active.filter((_, i) => i !== rand(active.length)); // starts terminating
          p.setMembers(active, present);
        } else if (r < 4) {
          for (const n of [...present]) if (!active.includes(n)) present.delete(n); // terminating pods exit
          present = new Set(present);
          p.setMembers(active, present);
        } else {
          const n = active[rand(active.length)] as string; // one push lands
          const plan = p.plan(n);
          if (plan !== 'wait') {
            applied.set(n, plan.view);
            p.report(n, true, plan.view);
          }
        }
        p.advance();
        check();
      }
    }
  });
});
