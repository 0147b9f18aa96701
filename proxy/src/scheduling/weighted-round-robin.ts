/**
 * Smooth weighted round-robin as earliest-deadline-first (the approach of Envoy's EDF scheduler): each member
 * has a virtual deadline that advances by 1/weight when it is picked; the earliest deadline goes next. Over any
 * window the picks follow the weights exactly and interleave evenly (like nginx's smooth WRR), at O(log n) per
 * pick instead of nginx's O(n). Starting deadlines get a random offset within one period, so proxy replicas do
 * not all begin with the same endpoint.
 */
import type { PoolMember } from '../endpoints/member.js';
import { IndexedHeap } from './indexed-heap.js';
import { IndexedScheduler } from './indexed-scheduler.js';

export class WeightedRoundRobin extends IndexedScheduler {
  private readonly deadline: Float64Array;
  private readonly period: Float64Array;
  private readonly heap: IndexedHeap;
  /** Deadline of the last pick: virtual time. */
  private now = 0;

  constructor(members: readonly PoolMember[]) {
    super(members);
    const n = this.members.length;
    this.deadline = new Float64Array(n);
    this.period = new Float64Array(n);
    for (const [i, m] of this.members.entries()) {
      this.period[i] = 1 / m.weight;
      this.deadline[i] = Math.random() / m.weight;
    }
    const d = this.deadline;
    this.heap = new IndexedHeap(n, (a, b) => (d[a] as number) < (d[b] as number) || (d[a] === d[b] && a < b));
    this.start();
  }

  protected add(i: number): void {
    this.heap.push(i);
  }

  protected drop(i: number): void {
    this.heap.remove(i);
  }

  protected candidate(): number {
    return this.heap.peek();
  }

  protected override unparking(i: number): void {
    // Back from parking: take the next turn of its period, never a burst of the turns it missed.
    const p = this.period[i] as number;
    this.deadline[i] = Math.max(this.deadline[i] as number, this.now + Math.random() * p);
  }

  protected override chosen(i: number): void {
    this.now = this.deadline[i] as number;
    this.deadline[i] = this.now + (this.period[i] as number);
    this.heap.update(i);
  }
}
