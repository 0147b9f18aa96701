/**
 * How one call gets a slot of one pool (docs/priority.md). Before each pick, the gate: a sheddable call is shed while
 * the replicas report saturation; a call new to the pool's queue goes behind the waiters that rank before it (its
 * class or a higher one), and a call outside the critical reserve waits as if the pool were full. When it must wait,
 * its class's timeout bounds the wait (0: shed at once). A woken call picks again and, if it lost the race, waits
 * again at its place.
 */
import type { PoolConfig } from '../../../shared/src/proxyconfig/index.js';
import type { ShedReason } from '../call/record.js';
import { shedsOnSaturation } from '../config/runtime.js';
import type { Priority, PriorityClass } from './classes.js';
import type { Ticket, WaitOutcome } from './fair-queue.js';
import type { PoolQueue } from './wait-queues.js';

/** How a wait for a slot ended: woken (pick again), aborted (the client left), or refused for `reason`. */
export type SlotWait = { kind: 'woken' } | { kind: 'aborted' } | { kind: 'shed'; reason: ShedReason };

/** Longest wait of a request of class `cls` in `pool`'s queue, ms. */
export function classTimeoutMs(queue: PoolConfig['scheduling']['queue'], cls: PriorityClass): number {
  if (cls === 'critical') return queue.criticalTimeoutMs ?? queue.timeoutMs;
  if (cls === 'sheddable') return queue.sheddableTimeoutMs ?? 0;
  return queue.timeoutMs;
}

/** The admission of one call in one pool; `close()` once the call is past the pool. */
export class SlotAdmission {
  private ticket: Ticket | undefined;

  constructor(
    private readonly pq: PoolQueue,
    readonly priority: Priority,
    private readonly onAbort: (cb: () => void) => void,
  ) {}

  /**
   * Before a pick at `now`: 'shed' when a sheddable call meets a saturated pool (first attempt only: a retry already
   * held a slot), 'queue' when it must wait without picking, 'pick' otherwise.
   */
  gate(now: number, firstAttempt: boolean): 'pick' | 'queue' | 'shed' {
    const { cls } = this.priority;
    if (firstAttempt && cls === 'sheddable' && shedsOnSaturation(this.pq.pool.config) && this.pq.saturated(now))
      return 'shed';
    const woken = this.ticket?.state === 'woken';
    if (!woken && firstAttempt && this.pq.queue.mustWait(cls)) return 'queue';
    return this.pq.outsideReserve(cls, now) ? 'pick' : 'queue';
  }

  /** The call took a slot: it no longer holds a place in the queue. */
  took(): void {
    if (this.ticket) this.pq.queue.release(this.ticket);
  }

  /**
   * Waits for a slot until `until` (ms since epoch, already capped by the class's timeout and the call's deadline)
   * from `now`, or only until `wake` when that is sooner (then it ends woken, keeping its place: a replica's
   * fleet-wide slots may free without a local release). A call that joins the queue while a slot is free wakes the
   * first waiter, so the queue moves even when no release comes (a replica added, a cap raised).
   */
  async wait(now: number, until: number, wake = until): Promise<SlotWait> {
    if (until <= now) return { kind: 'shed', reason: this.ticket ? 'timeout' : 'no_slot' };
    const ticket = this.ticketOf();
    const joining = ticket.state !== 'woken';
    const waiting =
      wake < until
        ? this.pq.queue.wait(ticket, Math.max(0, wake - now), 'woken')
        : this.pq.queue.wait(ticket, until - now);
    if (waiting === 'full') return { kind: 'shed', reason: 'queue_full' };
    if (joining && this.pq.hasFreeSlot(now) && this.pq.outsideReserve(this.pq.queue.headClass() ?? 'critical', now))
      this.pq.queue.wakeOne();
    return slotWait(await waiting);
  }

  close(): void {
    if (this.ticket) this.pq.queue.release(this.ticket);
  }

  private ticketOf(): Ticket {
    if (!this.ticket) {
      const ticket = this.pq.queue.ticket(this.priority);
      this.ticket = ticket;
      this.onAbort(() => this.pq.queue.release(ticket));
    }
    return this.ticket;
  }
}

function slotWait(outcome: WaitOutcome): SlotWait {
  switch (outcome) {
    case 'woken':
      return { kind: 'woken' };
    case 'aborted':
      return { kind: 'aborted' };
    case 'shed':
      return { kind: 'shed', reason: 'displaced' };
    case 'timeout':
      return { kind: 'shed', reason: 'timeout' };
  }
}
