/**
 * Bounded FIFO wait for a free slot, used when every endpoint of a pool is at its maxConcurrency. A waiter is
 * woken when an endpoint it could use releases a request; it then picks again and, if it lost the race, waits
 * again at the head of the line. Waiting longer than the timeout, or arriving at a full queue, is refused.
 */

import { type Clock, systemClock, type Timer } from '../../../shared/src/clock.js';
import type { PoolRuntime } from '../config/runtime.js';
import type { EndpointState } from '../endpoints/state.js';

export type WaitResult = 'woken' | 'timeout' | 'aborted';

interface Waiter {
  resolve(result: WaitResult): void;
  timer: Timer | undefined;
}

/** Waiters of one pool (one queue per compiled pool, so per snapshot). */
export class WaitQueue {
  private readonly waiters: Waiter[] = [];
  private endpoints: ReadonlySet<EndpointState> | undefined;

  constructor(
    readonly pool: PoolRuntime,
    private readonly onChange: (queue: WaitQueue) => void,
    private readonly clock: Clock = systemClock,
  ) {}

  get length(): number {
    return this.waiters.length;
  }

  /** Whether a release of `e` may let a waiter in. */
  covers(e: EndpointState): boolean {
    this.endpoints ??= new Set(this.pool.tiers.flatMap((t) => t.members.map((m) => m.endpoint)));
    return this.endpoints.has(e);
  }

  /**
   * Waits up to `timeoutMs` for a slot; 'full' at once when `maxSize` requests already wait. `front` puts the
   * waiter at the head (a woken waiter that lost the race keeps its place). `onAbort` registers a callback
   * for the client leaving.
   */
  wait(
    timeoutMs: number,
    maxSize: number,
    front: boolean,
    onAbort: (cb: () => void) => void,
  ): Promise<WaitResult> | 'full' {
    if (!front && this.waiters.length >= maxSize) return 'full';
    return new Promise<WaitResult>((resolve) => {
      const waiter: Waiter = {
        resolve: (result) => {
          waiter.timer?.cancel();
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) {
            this.waiters.splice(i, 1);
            this.onChange(this);
          }
          resolve(result);
        },
        timer: undefined,
      };
      waiter.timer = this.clock.after(Math.max(0, timeoutMs), () => waiter.resolve('timeout'));
      if (front) this.waiters.unshift(waiter);
      else this.waiters.push(waiter);
      this.onChange(this);
      onAbort(() => waiter.resolve('aborted'));
    });
  }

  /** Wakes the longest-waiting request. */
  wakeOne(): void {
    this.waiters[0]?.resolve('woken');
  }
}

/** The wait queues of one proxy: finds the queue of a pool and wakes waiters when an endpoint frees a slot. */
export class WaitQueues {
  private readonly byPool = new WeakMap<PoolRuntime, WaitQueue>();
  /** Queues that have waiters now (usually none, so a release costs one size check). */
  private readonly waiting = new Set<WaitQueue>();

  /** `clock` times the waits out (default: the system clock). */
  constructor(private readonly clock: Clock = systemClock) {}

  for(pool: PoolRuntime): WaitQueue {
    let q = this.byPool.get(pool);
    if (!q) {
      q = new WaitQueue(
        pool,
        (queue) => {
          if (queue.length > 0) this.waiting.add(queue);
          else this.waiting.delete(queue);
        },
        this.clock,
      );
      this.byPool.set(pool, q);
    }
    return q;
  }

  /** Requests waiting now, by pool id (queues of earlier snapshots included; pools without waiters absent). */
  depths(): Map<string, number> {
    const depths = new Map<string, number>();
    for (const q of this.waiting) depths.set(q.pool.config.id, (depths.get(q.pool.config.id) ?? 0) + q.length);
    return depths;
  }

  /** `e` released a request: wake one waiter of each queue that could use it. */
  released(e: EndpointState): void {
    if (this.waiting.size === 0) return;
    for (const q of this.waiting) if (q.covers(e)) q.wakeOne();
  }
}
