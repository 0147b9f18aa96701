/**
 * Power of two choices over peak-EWMA latency (Finagle / Linkerd): draw two distinct available members in
 * proportion to their weights and send to the one with the lower cost, latency estimate × (in-flight + 1).
 * Equal costs go to the first draw, so with equal latency the shares follow the weights. O(log n) per pick.
 */

import { latencyEstimate } from '../endpoints/latency.js';
import type { PoolMember } from '../endpoints/member.js';
import type { EndpointState } from '../endpoints/state.js';
import { WeightedRandom } from './random.js';
import type { PickContext } from './types.js';

/** Cost of an endpoint with requests in flight but no latency sample yet: send it one request at a time. */
const UNMEASURED_PENALTY_MS = 1e9;

/** Cost of sending one more request to `e` at `now`. */
export function peakEwmaCost(e: EndpointState, now: number): number {
  const latency = latencyEstimate(e, now);
  if (latency === 0) return e.inflight === 0 ? 0 : UNMEASURED_PENALTY_MS * e.inflight;
  return latency * (e.inflight + 1);
}

export class PeakEwmaP2C extends WeightedRandom {
  protected override choose(ctx: PickContext): number {
    const aside: number[] = [];
    const a = this.nextEligible(ctx, aside);
    if (a < 0) {
      this.restore(aside);
      return -1;
    }
    this.drop(a);
    aside.push(a);
    const b = this.nextEligible(ctx, aside);
    this.restore(aside);
    if (b < 0) return a;
    const first = (this.members[a] as PoolMember).endpoint;
    const second = (this.members[b] as PoolMember).endpoint;
    return peakEwmaCost(second, ctx.now) < peakEwmaCost(first, ctx.now) ? b : a;
  }
}
