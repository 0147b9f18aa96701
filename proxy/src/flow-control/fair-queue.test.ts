import { describe, expect, it } from 'vitest';
import { FakeClock, settle } from '../../../test/support/clock.js';
import { PRIORITY_CLASSES, type Priority, type PriorityClass } from './classes.js';
import { FairQueue, type Ticket, type WaitOutcome } from './fair-queue.js';

const priority = (cls: PriorityClass, tenant = 'a', weight = 1): Priority => ({
  cls,
  flow: `p/${tenant}`,
  weight,
  tenant,
  source: 'tenant',
});

/** A queue and a log of how each of its waits ended, by name. */
function harness(maxSize = 1000) {
  const clock = new FakeClock();
  const queue = new FairQueue({ maxSize, clock });
  const ended = new Map<string, WaitOutcome | 'full'>();
  const order: string[] = [];
  const tickets = new Map<string, Ticket>();
  const wait = (name: string, p: Priority, timeoutMs = 60_000) => {
    const t = tickets.get(name) ?? queue.ticket(p);
    tickets.set(name, t);
    const w = queue.wait(t, timeoutMs);
    if (w === 'full') ended.set(name, 'full');
    else
      void w.then((o) => {
        ended.set(name, o);
        if (o === 'woken') order.push(name);
      });
    return t;
  };
  /** Wakes `n` waiters, each taking its slot at once; resolves once their outcomes are known. */
  const wake = async (n: number) => {
    for (let i = 0; i < n; i++) queue.wakeOne();
    await settle();
    for (const [name, t] of tickets) if (ended.get(name) === 'woken' && t.state === 'woken') queue.release(t);
  };
  return { clock, queue, ended, order, wait, wake, tickets };
}

describe('FairQueue', () => {
  it('wakes classes strictly in order: critical, then standard, then sheddable, whatever the arrival order', async () => {
    const h = harness();
    h.wait('s1', priority('sheddable'));
    h.wait('n1', priority('standard'));
    h.wait('s2', priority('sheddable'));
    h.wait('c1', priority('critical'));
    h.wait('n2', priority('standard'));
    h.wait('c2', priority('critical'));
    await h.wake(6);
    expect(h.order).toEqual(['c1', 'c2', 'n1', 'n2', 's1', 's2']);
    expect(h.queue.length).toBe(0);
  });

  it('serves backlogged tenants of a class in proportion to their weights, interleaved', async () => {
    const h = harness(10_000);
    const weights = { gold: 3, silver: 2, bronze: 1 } as const;
    for (let i = 0; i < 600; i++)
      for (const [tenant, w] of Object.entries(weights)) h.wait(`${tenant}-${i}`, priority('standard', tenant, w));
    await h.wake(600);
    const served = (tenant: string) => h.order.filter((n) => n.startsWith(`${tenant}-`)).length;
    // Self-clocked fair queueing is exact for backlogged flows: within one request of 3:2:1.
    expect(Math.abs(served('gold') - 300)).toBeLessThanOrEqual(1);
    expect(Math.abs(served('silver') - 200)).toBeLessThanOrEqual(1);
    expect(Math.abs(served('bronze') - 100)).toBeLessThanOrEqual(1);
    // Interleaved, not in bursts: every window of 6 wakes holds each tenant in its share, give or take one.
    for (let i = 0; i + 6 <= 600; i += 6) {
      const window = h.order.slice(i, i + 6);
      expect(Math.abs(window.filter((n) => n.startsWith('gold-')).length - 3)).toBeLessThanOrEqual(1);
    }
  });

  it('keeps the shares within 2 % when tenants keep arriving while being served', async () => {
    const h = harness(10_000);
    const weights: Record<string, number> = { a: 4, b: 1, c: 2 };
    let n = 0;
    const add = (tenant: string) => h.wait(`${tenant}-${n++}`, priority('standard', tenant, weights[tenant]));
    for (const t of Object.keys(weights)) for (let i = 0; i < 20; i++) add(t);
    for (let round = 0; round < 1400; round++) {
      const before = h.order.length;
      await h.wake(1);
      const tenant = (h.order[before] as string).split('-')[0] as string;
      add(tenant); // the served tenant sends another request: every tenant stays backlogged
    }
    const share = (t: string) => h.order.filter((x) => x.startsWith(`${t}-`)).length / h.order.length;
    expect(share('a')).toBeCloseTo(4 / 7, 1);
    expect(Math.abs(share('a') - 4 / 7)).toBeLessThan(0.02);
    expect(Math.abs(share('b') - 1 / 7)).toBeLessThan(0.02);
    expect(Math.abs(share('c') - 2 / 7)).toBeLessThan(0.02);
  });

  it('gives a tenant that was idle no saved-up credit: it joins at the current virtual time', async () => {
    const h = harness();
    for (let i = 0; i < 10; i++) h.wait(`busy-${i}`, priority('standard', 'busy'));
    await h.wake(8); // busy was served alone for a while
    h.wait('late-0', priority('standard', 'late'));
    h.wait('late-1', priority('standard', 'late'));
    await h.wake(4);
    // late alternates with busy instead of taking all the slots busy got while late was idle.
    expect(h.order.slice(8)).toEqual(['busy-8', 'late-0', 'busy-9', 'late-1']);
  });

  it('makes newcomers queue behind waiters of their class or a higher one, and behind woken ones until released', async () => {
    const h = harness();
    expect(h.queue.mustWait('sheddable')).toBe(false);
    const n1 = h.wait('n1', priority('standard'));
    expect(h.queue.mustWait('critical')).toBe(false);
    expect(h.queue.mustWait('standard')).toBe(true);
    expect(h.queue.mustWait('sheddable')).toBe(true);
    h.queue.wakeOne();
    await settle();
    expect(h.ended.get('n1')).toBe('woken');
    // Woken but not yet holding its slot: still ahead of a newcomer.
    expect(h.queue.mustWait('standard')).toBe(true);
    h.queue.release(n1);
    expect(h.queue.mustWait('standard')).toBe(false);
  });

  it('puts a woken request that lost the race for the slot back at its place', async () => {
    const h = harness();
    h.wait('first', priority('standard', 'a'));
    h.wait('second', priority('standard', 'a'));
    h.queue.wakeOne();
    await settle();
    expect(h.ended.get('first')).toBe('woken');
    h.wait('third', priority('standard', 'b')); // arrives while first is on its way
    h.wait('first', priority('standard', 'a')); // lost the race: waits again
    h.queue.wakeOne();
    await settle();
    expect(h.order).toEqual(['first', 'first']);
    h.queue.release(h.tickets.get('first') as Ticket);
    await h.wake(2);
    // second and third carry equal tags (each one request into its tenant's turn): arrival order decides.
    expect(h.order.slice(2)).toEqual(['second', 'third']);
  });

  it('ends each wait after its own timeout (per class), and a release as aborted', async () => {
    const h = harness();
    h.wait('critical', priority('critical'), 60_000);
    h.wait('standard', priority('standard'), 30_000);
    h.wait('sheddable', priority('sheddable'), 5_000);
    const gone = h.wait('gone', priority('standard', 'b'), 30_000);
    h.queue.release(gone);
    await settle();
    expect(h.ended.get('gone')).toBe('aborted');
    await h.clock.advance(4_999);
    expect(h.ended.has('sheddable')).toBe(false);
    await h.clock.advance(1);
    expect(h.ended.get('sheddable')).toBe('timeout');
    await h.clock.advance(25_000);
    expect(h.ended.get('standard')).toBe('timeout');
    expect(h.ended.has('critical')).toBe(false);
    await h.clock.advance(30_000);
    expect(h.ended.get('critical')).toBe('timeout');
    expect(h.queue.length).toBe(0);
    expect(h.clock.pending).toBe(0);
  });

  describe('when full', () => {
    it('refuses a newcomer of the lowest class present, from the tenant holding the largest backlog', async () => {
      const h = harness(2);
      h.wait('a1', priority('standard', 'a'));
      h.wait('a2', priority('standard', 'a'));
      h.wait('a3', priority('standard', 'a'));
      h.wait('s1', priority('sheddable', 'b'));
      expect(h.ended.get('a3')).toBe('full');
      expect(h.ended.get('s1')).toBe('full');
      expect(h.queue.length).toBe(2);
    });

    it('sheds the newest sheddable waiter first, then standard, for higher classes; critical is refused only by critical', async () => {
      const h = harness(3);
      h.wait('s1', priority('sheddable'));
      h.wait('s2', priority('sheddable'));
      h.wait('n1', priority('standard'));
      h.wait('n2', priority('standard')); // displaces s2 (newest of the lowest class)
      await settle();
      expect(h.ended.get('s2')).toBe('shed');
      h.wait('c1', priority('critical')); // displaces s1
      h.wait('c2', priority('critical')); // no sheddable left: displaces n2
      await settle();
      expect(h.ended.get('s1')).toBe('shed');
      expect(h.ended.get('n2')).toBe('shed');
      h.wait('c3', priority('critical')); // displaces n1
      h.wait('c4', priority('critical')); // only critical waiters: refused
      await settle();
      expect(h.ended.get('n1')).toBe('shed');
      expect(h.ended.get('c4')).toBe('full');
      await h.wake(3);
      expect(h.order).toEqual(['c1', 'c2', 'c3']);
    });

    it('within a class, sheds from the tenant with the largest backlog per weight so others still get in', async () => {
      const h = harness(6);
      for (let i = 0; i < 6; i++) h.wait(`hog-${i}`, priority('standard', 'hog', 1));
      h.wait('small-0', priority('standard', 'small', 1));
      h.wait('small-1', priority('standard', 'small', 1));
      h.wait('small-2', priority('standard', 'small', 1));
      h.wait('small-3', priority('standard', 'small', 1)); // 3 against 3 after the last shed: refused
      await settle();
      expect(['hog-5', 'hog-4', 'hog-3'].map((n) => h.ended.get(n))).toEqual(['shed', 'shed', 'shed']);
      expect(h.ended.get('small-3')).toBe('full');
      // A heavier tenant may hold more: weight 2 keeps twice the backlog of weight 1.
      h.wait('heavy-0', priority('standard', 'heavy', 2));
      await settle();
      expect(h.ended.get('hog-2')).toBe('shed');
      expect(h.queue.length).toBe(6);
    });

    it('holds at most maxSize waiters and forgets flows once they are empty', async () => {
      const h = harness(50);
      for (let i = 0; i < 5000; i++)
        h.wait(`r${i}`, priority(PRIORITY_CLASSES[i % 3] as PriorityClass, `t${i % 40}`, 1 + (i % 4)));
      await settle();
      expect(h.queue.length).toBe(50);
      expect(h.queue.backlog().reduce((n, b) => n + b.waiting, 0)).toBe(50);
      expect(h.clock.pending).toBe(50); // one timer per waiter, none left behind by the displaced
      await h.wake(50);
      expect(h.queue.length).toBe(0);
      expect(h.queue.backlog()).toEqual([]);
      expect(h.clock.pending).toBe(0);
      expect(h.queue.mustWait('sheddable')).toBe(false);
    });
  });
});
