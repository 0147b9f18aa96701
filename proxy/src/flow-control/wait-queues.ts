/**
 * The wait queues of one proxy, one per compiled pool (so per snapshot), and what admission reads of a pool: its
 * critical reserve and whether its replicas report saturation. A release of an endpoint wakes one waiter of each
 * queue whose pool it serves; a request that queues while a slot is free wakes the first waiter at once, so a
 * queue never sits still beside free capacity (a raised maxConcurrency, a new replica).
 */
import { type Clock, systemClock } from '../../../shared/src/clock.js';
import type { PoolRuntime } from '../config/runtime.js';
import { freshServerLoad } from '../endpoints/load.js';
import type { EndpointState } from '../endpoints/state.js';
import { loadSaturated } from '../scheduling/llm-aware/scorers.js';
import type { PriorityClass } from './classes.js';
import { FairQueue, type FlowBacklog } from './fair-queue.js';

/** The queue of one pool and the pool's endpoints. */
export class PoolQueue {
  readonly queue: FairQueue;
  /** The endpoints of the pool's members that take traffic (weight above 0), each once. */
  private readonly endpoints: readonly EndpointState[];
  private readonly covered: ReadonlySet<EndpointState>;

  constructor(
    readonly pool: PoolRuntime,
    clock: Clock,
    onChange: (q: PoolQueue) => void,
  ) {
    this.covered = new Set(pool.tiers.flatMap((t) => t.members.filter((m) => m.weight > 0).map((m) => m.endpoint)));
    this.endpoints = [...this.covered];
    this.queue = new FairQueue({
      maxSize: pool.config.scheduling.queue.maxSize,
      clock,
      onChange: () => onChange(this),
    });
  }

  /** Whether a release of `e` may let a waiter in. */
  covers(e: EndpointState): boolean {
    return this.covered.has(e);
  }

  /**
   * Whether a request of `cls` may take a slot at `now` as far as the critical reserve goes: critical ones always;
   * others while the requests in flight on the pool's endpoints in service stay below their capacity minus the
   * reserve (ceil(criticalReserve × capacity) slots). No reserve applies when a replica has no maxConcurrency.
   * O(endpoints), and only when a reserve is set.
   */
  outsideReserve(cls: PriorityClass, now: number): boolean {
    const reserve = this.pool.config.scheduling.overload?.criticalReserve ?? 0;
    if (cls === 'critical' || reserve <= 0) return true;
    let capacity = 0;
    let used = 0;
    for (const e of this.endpoints) {
      if (!e.available(now) && !e.fullOnly(now)) continue;
      capacity += e.maxConcurrency;
      used += e.inflight;
    }
    if (!Number.isFinite(capacity)) return true;
    return used < capacity - Math.ceil(reserve * capacity);
  }

  /**
   * Whether the pool is saturated by its replicas' own signals at `now`: no replica in service has room (each is at
   * its maxConcurrency or reports a queue or KV-cache use above the llm-aware thresholds in fresh metrics) and at
   * least one reports such a reading. O(endpoints).
   */
  saturated(now: number): boolean {
    const config = this.pool.config.scheduling.llmAware;
    let reported = 0;
    for (const e of this.endpoints) {
      const load = freshServerLoad(e, now);
      if (load && loadSaturated(load, config)) reported++;
      else if (e.available(now)) return false;
    }
    return reported > 0;
  }

  /** Whether some endpoint of the pool could take a request at `now`. O(endpoints). */
  hasFreeSlot(now: number): boolean {
    return this.endpoints.some((e) => e.available(now));
  }
}

/** The queue of a pool at one moment, for metrics. */
export interface PoolBacklog extends FlowBacklog {
  pool: string;
}

/** The wait queues of one proxy: finds the queue of a pool and wakes waiters when an endpoint frees a slot. */
export class WaitQueues {
  private readonly byPool = new WeakMap<PoolRuntime, PoolQueue>();
  /** Queues that have waiters now (usually none, so a release costs one size check). */
  private readonly waiting = new Set<PoolQueue>();

  /** `clock` times the waits out (default: the system clock). */
  constructor(private readonly clock: Clock = systemClock) {}

  for(pool: PoolRuntime): PoolQueue {
    let q = this.byPool.get(pool);
    if (!q) {
      q = new PoolQueue(pool, this.clock, (queue) => {
        if (queue.queue.length > 0) this.waiting.add(queue);
        else this.waiting.delete(queue);
      });
      this.byPool.set(pool, q);
    }
    return q;
  }

  /** `e` released a request: wake one waiter of each queue that could use it. */
  released(e: EndpointState): void {
    if (this.waiting.size === 0) return;
    for (const q of [...this.waiting]) if (q.covers(e)) q.queue.wakeOne();
  }

  /** Who waits now, per pool, class and tenant. O(flows). */
  backlog(): PoolBacklog[] {
    return [...this.waiting].flatMap((q) => q.queue.backlog().map((b) => ({ pool: q.pool.config.id, ...b })));
  }
}
