/** Weighted random: a baseline strategy. */
import type { PoolMember } from '../config/runtime.js';
import { eligible, type PickContext, type Scheduler } from './types.js';

export class WeightedRandom implements Scheduler {
  constructor(private readonly members: readonly PoolMember[]) {}

  pick(ctx: PickContext): PoolMember | undefined {
    const candidates = eligible(this.members, ctx);
    let total = 0;
    for (const m of candidates) total += m.weight;
    let r = Math.random() * total;
    for (const m of candidates) {
      r -= m.weight;
      if (r < 0) return m;
    }
    return candidates.at(-1);
  }
}
