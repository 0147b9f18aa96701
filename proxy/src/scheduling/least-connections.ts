/** Weighted least-connections: the member with the fewest in-flight requests per unit weight; random tie-break. */
import type { PoolMember } from '../config/runtime.js';
import { eligible, type PickContext, type Scheduler } from './types.js';

export class LeastConnections implements Scheduler {
  constructor(private readonly members: readonly PoolMember[]) {}

  pick(ctx: PickContext): PoolMember | undefined {
    let best: PoolMember | undefined;
    let bestScore = Number.POSITIVE_INFINITY;
    let ties = 0;
    for (const m of eligible(this.members, ctx)) {
      const score = (m.endpoint.inflight + 1) / m.weight;
      if (score < bestScore) {
        bestScore = score;
        best = m;
        ties = 1;
      } else if (score === bestScore && Math.random() * ++ties < 1) {
        best = m;
      }
    }
    return best;
  }
}
