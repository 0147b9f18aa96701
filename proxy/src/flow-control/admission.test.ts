import { describe, expect, it } from 'vitest';
import type { PoolConfig } from '../../../shared/src/proxyconfig/index.js';
import { FakeClock, settle } from '../../../test/support/clock.js';
import type { PoolRuntime } from '../config/runtime.js';
import { recordServerLoad } from '../endpoints/load.js';
import type { EndpointState } from '../endpoints/state.js';
import { perOperation } from '../protocols/catalog.js';
import { WeightedRandom } from '../scheduling/random.js';
import { llmAwarePool, scrapedBackend } from '../scheduling/testing/llm-aware-pool.js';
import { fakeMembers } from '../scheduling/testing/members.js';
import { SlotAdmission } from './admission.js';
import type { Priority, PriorityClass } from './classes.js';
import { WaitQueues } from './wait-queues.js';

/** A pool of `n` replicas with `cap` slots each, metrics scraped, and the given queue and overload settings. */
function pool(
  n: number,
  cap: number,
  settings: { maxSize?: number; criticalReserve?: number; shedOnSaturation?: boolean } = {},
): PoolRuntime {
  const members = fakeMembers(
    Array.from({ length: n }, () => 1),
    { ...scrapedBackend(), maxConcurrency: cap },
  );
  const base = llmAwarePool();
  const config: PoolConfig = {
    ...base,
    scheduling: {
      ...base.scheduling,
      queue: { maxSize: settings.maxSize ?? 100, timeoutMs: 30_000 },
      overload: { criticalReserve: settings.criticalReserve ?? 0, shedOnSaturation: settings.shedOnSaturation ?? true },
    },
  };
  return {
    config,
    tiers: [{ priority: 0, members, scheduler: new WeightedRandom(members) }],
    support: perOperation(() => ({ servable: true, unservable: new Set(), provider: undefined })),
  };
}

const endpoints = (p: PoolRuntime): EndpointState[] => p.tiers[0]?.members.map((m) => m.endpoint) ?? [];
const fill = (e: EndpointState, n: number) => {
  for (let i = 0; i < n; i++) e.acquire();
};
const priority = (cls: PriorityClass): Priority => ({ cls, flow: 'p/t', weight: 1, tenant: 't', source: 'tenant' });

describe('WaitQueues', () => {
  it("wakes a waiter of each pool a released endpoint serves, and none of another pool's", async () => {
    const clock = new FakeClock();
    const queues = new WaitQueues(clock);
    const p = pool(2, 1);
    const other = pool(1, 1);
    const q = queues.for(p).queue;
    expect(queues.for(p).queue).toBe(q);
    const outcomes: string[] = [];
    for (const name of ['a', 'b']) {
      const w = q.wait(q.ticket(priority('standard')), 5000);
      if (w === 'full') throw new Error('refused');
      void w.then((o) => outcomes.push(`${name}:${o}`));
    }
    queues.released(endpoints(other)[0] as EndpointState);
    expect(q.length).toBe(2); // wakes are synchronous: nobody was woken
    queues.released(endpoints(p)[1] as EndpointState);
    expect(q.length).toBe(1);
    await settle();
    expect(outcomes).toEqual(['a:woken']);
    expect(queues.backlog()).toEqual([{ pool: 'ns/pool', cls: 'standard', tenant: 't', waiting: 1 }]);
  });
});

describe('PoolQueue', () => {
  it('keeps ceil(criticalReserve × capacity) slots for critical requests', () => {
    const clock = new FakeClock();
    const p = pool(2, 4, { criticalReserve: 0.2 }); // 8 slots, 2 reserved
    const pq = new WaitQueues(clock).for(p);
    const [a, b] = endpoints(p) as [EndpointState, EndpointState];
    fill(a, 3);
    fill(b, 2);
    const now = clock.now();
    expect(pq.outsideReserve('standard', now)).toBe(true);
    b.acquire(); // 6 in flight: only the reserve is left
    expect(pq.outsideReserve('standard', now)).toBe(false);
    expect(pq.outsideReserve('sheddable', now)).toBe(false);
    expect(pq.outsideReserve('critical', now)).toBe(true);
    // An ejected replica's slots leave the capacity: 4 slots, 1 reserved, 3 in flight on the other.
    b.ejectedUntil = now + 1000;
    expect(pq.outsideReserve('standard', now)).toBe(false);
    a.release();
    expect(pq.outsideReserve('standard', now)).toBe(true);
  });

  it('is saturated when no replica has room and one reports a queue or KV-cache use above the thresholds', () => {
    const clock = new FakeClock();
    const p = pool(2, 4);
    const pq = new WaitQueues(clock).for(p);
    const [a, b] = endpoints(p) as [EndpointState, EndpointState];
    const now = clock.now();
    expect(pq.saturated(now)).toBe(false);
    recordServerLoad(a, 'metrics', { running: 4, waiting: 20, kvUsage: 0.5 }, now);
    expect(pq.saturated(now)).toBe(false); // b has room and reports nothing
    recordServerLoad(b, 'metrics', { running: 4, waiting: 0, kvUsage: 0.95 }, now);
    expect(pq.saturated(now)).toBe(true);
    recordServerLoad(b, 'metrics', { running: 1, waiting: 0, kvUsage: 0.3 }, now);
    expect(pq.saturated(now)).toBe(false);
    fill(b, 4); // b has no metrics saying it is saturated, but it is at its cap
    expect(pq.saturated(now)).toBe(true);
    // Stale readings count for nothing: then b is only full, a has room again.
    expect(pq.saturated(now + 60_000)).toBe(false);
  });
});

describe('SlotAdmission', () => {
  const admission = (p: PoolRuntime, cls: PriorityClass, queues: WaitQueues) =>
    new SlotAdmission(queues.for(p), priority(cls), () => {});

  it('sheds sheddable calls on a saturated pool before they reach a replica, and only them', () => {
    const clock = new FakeClock();
    const queues = new WaitQueues(clock);
    const p = pool(1, 4);
    recordServerLoad(endpoints(p)[0] as EndpointState, 'metrics', { waiting: 50 }, clock.now());
    fill(endpoints(p)[0] as EndpointState, 4);
    expect(admission(p, 'sheddable', queues).gate(clock.now(), true)).toBe('shed');
    expect(admission(p, 'standard', queues).gate(clock.now(), true)).toBe('pick');
    expect(admission(p, 'critical', queues).gate(clock.now(), true)).toBe('pick');
    // Off by configuration: the sheddable call queues like the others would.
    const off = pool(1, 4, { shedOnSaturation: false });
    recordServerLoad(endpoints(off)[0] as EndpointState, 'metrics', { waiting: 50 }, clock.now());
    expect(admission(off, 'sheddable', queues).gate(clock.now(), true)).toBe('pick');
  });

  it('queues a newcomer behind waiters that rank before it, but lets a higher class pick', async () => {
    const clock = new FakeClock();
    const queues = new WaitQueues(clock);
    const p = pool(1, 1);
    fill(endpoints(p)[0] as EndpointState, 1);
    const waiting = admission(p, 'standard', queues);
    const result = waiting.wait(clock.now(), clock.now() + 1000);
    expect(admission(p, 'standard', queues).gate(clock.now(), true)).toBe('queue');
    expect(admission(p, 'sheddable', queues).gate(clock.now(), true)).toBe('queue');
    expect(admission(p, 'critical', queues).gate(clock.now(), true)).toBe('pick');
    // A retry (not the first attempt) already held a slot: it picks.
    expect(admission(p, 'standard', queues).gate(clock.now(), false)).toBe('pick');
    (endpoints(p)[0] as EndpointState).release();
    queues.released(endpoints(p)[0] as EndpointState);
    expect(await result).toEqual({ kind: 'woken' });
    expect(waiting.gate(clock.now(), true)).toBe('pick'); // the woken call is not behind itself
    waiting.took();
    expect(admission(p, 'standard', queues).gate(clock.now(), true)).toBe('pick');
  });

  it('refuses at once without a wait (class timeout 0), wakes the queue when it joins beside a free slot', async () => {
    const clock = new FakeClock();
    const queues = new WaitQueues(clock);
    const p = pool(1, 1);
    const a = admission(p, 'sheddable', queues);
    expect(await a.wait(clock.now(), clock.now())).toEqual({ kind: 'shed', reason: 'no_slot' });
    // Nothing in flight: a call that had to queue (say, behind a woken one) is woken by its own arrival.
    const b = admission(p, 'standard', queues);
    expect(await b.wait(clock.now(), clock.now() + 1000)).toEqual({ kind: 'woken' });
    b.close();
    expect(queues.for(p).queue.mustWait('sheddable')).toBe(false);
  });

  it('reports a wait that ran out, a full queue and a displaced waiter', async () => {
    const clock = new FakeClock();
    const queues = new WaitQueues(clock);
    const p = pool(1, 1, { maxSize: 1 });
    fill(endpoints(p)[0] as EndpointState, 1);
    const low = admission(p, 'sheddable', queues).wait(clock.now(), clock.now() + 5000);
    expect(await admission(p, 'sheddable', queues).wait(clock.now(), clock.now() + 5000)).toEqual({
      kind: 'shed',
      reason: 'queue_full',
    });
    const high = admission(p, 'standard', queues).wait(clock.now(), clock.now() + 2000);
    expect(await low).toEqual({ kind: 'shed', reason: 'displaced' });
    await clock.advance(2000);
    expect(await high).toEqual({ kind: 'shed', reason: 'timeout' });
  });
});
