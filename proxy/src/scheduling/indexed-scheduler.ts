/**
 * Base of the indexed strategies: keeps the tier's members that can take traffic in a strategy-specific index
 * (heap, weighted sampler) so a pick costs O(log n) instead of a scan.
 *
 * A member found unavailable at pick time is "parked": taken out of the index until it can return. It comes
 * back when its endpoint notifies a change and is available again (release, health check), or at a rescan of
 * the parked members, which runs when a known deadline (ejection end, Retry-After) passes and at least every
 * second as a safety net (a replica marked full across the fleet comes back when its mark ends). Members tried by the request are set aside during the pick and put back after it.
 */

import type { PoolMember } from '../endpoints/member.js';
import type { EndpointState } from '../endpoints/state.js';
import type { PickContext, Scheduler } from './types.js';

const SAFETY_RESCAN_MS = 1000;

export abstract class IndexedScheduler implements Scheduler {
  protected readonly members: readonly PoolMember[];
  private readonly parked = new Set<number>();
  private nextRescanAt = Number.POSITIVE_INFINITY;
  /** Time of the latest pick: the scheduler knows time only from its picks (the caller's clock). */
  private lastPickAt = Number.NEGATIVE_INFINITY;
  private readonly unsubscribe: Array<() => void> = [];
  protected disposed = false;

  constructor(members: readonly PoolMember[]) {
    this.members = members.filter((m) => m.weight > 0);
  }

  /** Subclasses call this at the end of their constructor, once their index exists. */
  protected start(): void {
    for (const [i, m] of this.members.entries()) {
      this.add(i);
      this.unsubscribe.push(m.endpoint.subscribe(() => this.changed(i)));
    }
  }

  /** Puts member `i` into the index. */
  protected abstract add(i: number): void;
  /** Takes member `i` out of the index. */
  protected abstract drop(i: number): void;
  /** The index's choice among its members, or -1 when it is empty. */
  protected abstract candidate(ctx: PickContext): number;
  /** The endpoint of member `i` changed while indexed (e.g. its in-flight count). */
  protected rekey(_i: number): void {}
  /** Member `i` is about to return from parking. */
  protected unparking(_i: number): void {}
  /** Member `i` was returned by a pick. */
  protected chosen(_i: number): void {}

  pick(ctx: PickContext): PoolMember | undefined {
    this.lastPickAt = ctx.now;
    if (ctx.now >= this.nextRescanAt) this.rescan(ctx.now);
    const i = this.choose(ctx);
    if (i < 0) return undefined;
    this.chosen(i);
    return this.members[i];
  }

  /** The member to return, or -1. Default: the index's first eligible candidate. */
  protected choose(ctx: PickContext): number {
    const aside: number[] = [];
    const i = this.nextEligible(ctx, aside);
    this.restore(aside);
    return i;
  }

  dispose(): void {
    this.disposed = true;
    for (const u of this.unsubscribe.splice(0)) u();
  }

  /**
   * The index's next candidate that is available and not excluded; parks unavailable ones and moves excluded
   * ones to `aside` (the caller must `restore(aside)`). -1 when none is left.
   */
  protected nextEligible(ctx: PickContext, aside: number[]): number {
    for (;;) {
      const i = this.candidate(ctx);
      if (i < 0) return -1;
      const e = (this.members[i] as PoolMember).endpoint;
      if (!e.available(ctx.now)) {
        this.park(i, e, ctx.now);
        continue;
      }
      if (ctx.exclude.has(e)) {
        this.drop(i);
        aside.push(i);
        continue;
      }
      return i;
    }
  }

  /** Puts back members set aside during a pick. */
  protected restore(aside: readonly number[]): void {
    for (const i of aside) this.add(i);
  }

  private park(i: number, e: EndpointState, now: number): void {
    this.drop(i);
    this.parked.add(i);
    this.nextRescanAt = Math.min(this.nextRescanAt, wakeTime(e, now));
  }

  private unpark(i: number): void {
    this.parked.delete(i);
    this.unparking(i);
    this.add(i);
  }

  private changed(i: number): void {
    if (!this.parked.has(i)) {
      this.rekey(i);
      return;
    }
    // Judged at the latest pick's time: a member available by now but not then comes back at the next pick's rescan
    // (its wake time is at most now), and one unparked too early is parked again by that pick.
    const e = (this.members[i] as PoolMember).endpoint;
    const now = this.lastPickAt;
    if (e.available(now)) this.unpark(i);
    // a deadline it waits for may have moved closer (a new Retry-After, a shorter fleet-full mark)
    else this.nextRescanAt = Math.min(this.nextRescanAt, wakeTime(e, now));
  }

  private rescan(now: number): void {
    let next = Number.POSITIVE_INFINITY;
    for (const i of this.parked) {
      const e = (this.members[i] as PoolMember).endpoint;
      if (e.available(now)) this.unpark(i);
      else next = Math.min(next, wakeTime(e, now));
    }
    this.nextRescanAt = this.parked.size > 0 ? next : Number.POSITIVE_INFINITY;
  }
}

/** When a parked endpoint may be available again: a known deadline, else the safety rescan. */
function wakeTime(e: EndpointState, now: number): number {
  let t = now + SAFETY_RESCAN_MS;
  if (e.limitedUntil > now) t = Math.min(t, e.limitedUntil);
  if (e.ejectedUntil > now && !e.awaitingHealthCheck) t = Math.min(t, e.ejectedUntil);
  if (e.fleetFullUntil > now) t = Math.min(t, e.fleetFullUntil);
  return t;
}
