/** Smooth weighted round-robin (as in nginx): an even interleaving that follows the weights exactly. */
import type { PoolMember } from '../config/runtime.js';
import { eligible, type PickContext, type Scheduler } from './types.js';

export class WeightedRoundRobin implements Scheduler {
  private readonly current: Map<PoolMember, number> = new Map();
  constructor(private readonly members: readonly PoolMember[]) {}

  pick(ctx: PickContext): PoolMember | undefined {
    const candidates = eligible(this.members, ctx);
    let total = 0;
    let best: PoolMember | undefined;
    let bestWeight = Number.NEGATIVE_INFINITY;
    for (const m of candidates) {
      const w = (this.current.get(m) ?? 0) + m.weight;
      this.current.set(m, w);
      total += m.weight;
      if (w > bestWeight) {
        bestWeight = w;
        best = m;
      }
    }
    if (best) this.current.set(best, bestWeight - total);
    return best;
  }
}
