/** Picks the endpoint of an attempt: the first priority tier with an available member, preferring untried ones. */
import type { EndpointState } from '../config/endpoint-state.js';
import type { PoolMember, PoolRuntime } from '../config/runtime.js';
import type { PickContext } from '../scheduling/index.js';

const NONE: ReadonlySet<EndpointState> = new Set();

export function selectMember(
  pool: PoolRuntime,
  tried: ReadonlySet<EndpointState>,
  ctx: Omit<PickContext, 'exclude'>,
): PoolMember | undefined {
  for (const tier of pool.tiers) {
    const m = tier.scheduler.pick({ ...ctx, exclude: tried });
    if (m) return m;
  }
  if (tried.size === 0) return undefined;
  // Every untried endpoint is unavailable: a tried one may take the retry.
  for (const tier of pool.tiers) {
    const m = tier.scheduler.pick({ ...ctx, exclude: NONE });
    if (m) return m;
  }
  return undefined;
}

/** Soonest time (ms since epoch) at which a rate-limited (Retry-After) member of the pool frees up, if any. */
export function soonestRelease(pool: PoolRuntime, now: number): number | undefined {
  let soonest: number | undefined;
  for (const tier of pool.tiers)
    for (const m of tier.members) {
      const e = m.endpoint;
      if (e.limitedUntil > now && e.health !== 'unhealthy' && e.ejectedUntil <= now)
        soonest = soonest === undefined ? e.limitedUntil : Math.min(soonest, e.limitedUntil);
    }
  return soonest;
}
