/** Picks the endpoint of an attempt: the first priority tier with an available member, preferring untried ones. */
import type { EndpointState } from '../config/endpoint-state.js';
import type { PoolMember, PoolRuntime } from '../config/runtime.js';
import type { PickContext } from '../scheduling/index.js';

const NONE: ReadonlySet<EndpointState> = new Set();

/**
 * An available member of the first tier that has one, never one in `tried` while an untried one is available
 * in any tier; when every untried endpoint is unavailable, a tried one may take the retry.
 */
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
  for (const tier of pool.tiers) {
    const m = tier.scheduler.pick({ ...ctx, exclude: NONE });
    if (m) return m;
  }
  return undefined;
}

/** Why no member of a pool is available: some are only full, and/or some are only rate limited until a time. */
export interface Unavailability {
  /** Some endpoint is healthy and only at its max concurrency: waiting in the queue can help. */
  full: boolean;
  /** Soonest time (ms since epoch) at which a healthy endpoint blocked by Retry-After frees up, if any. */
  soonestRelease: number | undefined;
}

/** O(n) diagnosis, for the path where selectMember found nothing. */
export function unavailability(pool: PoolRuntime, now: number): Unavailability {
  let full = false;
  let soonest: number | undefined;
  for (const tier of pool.tiers)
    for (const m of tier.members) {
      const e = m.endpoint;
      if (m.weight <= 0) continue;
      if (e.fullOnly(now)) full = true;
      if (e.limitedUntil > now && e.health !== 'unhealthy' && e.ejectedUntil <= now && !e.awaitingHealthCheck)
        soonest = soonest === undefined ? e.limitedUntil : Math.min(soonest, e.limitedUntil);
    }
  return { full, soonestRelease: soonest };
}
