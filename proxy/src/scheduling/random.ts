/** Weighted random: a baseline strategy. O(log n) per pick over a Fenwick tree of the available members. */
import type { PoolMember } from '../endpoints/member.js';
import { IndexedScheduler } from './indexed-scheduler.js';
import { WeightedSampler } from './weighted-sampler.js';

export class WeightedRandom extends IndexedScheduler {
  protected readonly sampler: WeightedSampler;

  constructor(members: readonly PoolMember[]) {
    super(members);
    this.sampler = new WeightedSampler(this.members.length);
    this.start();
  }

  protected add(i: number): void {
    this.sampler.set(i, (this.members[i] as PoolMember).weight);
  }

  protected drop(i: number): void {
    this.sampler.set(i, 0);
  }

  protected candidate(): number {
    return this.sampler.sample(Math.random());
  }
}
