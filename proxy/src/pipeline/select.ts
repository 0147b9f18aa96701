/** Picks the endpoint of an attempt: the first priority tier with an available member, preferring untried ones. */

import type { PoolRuntime } from '../config/runtime.js';
import type { PoolMember } from '../endpoints/member.js';
import type { EndpointState } from '../endpoints/state.js';
import type { PickContext, Scheduler } from '../scheduling/index.js';

const NONE: ReadonlySet<EndpointState> = new Set();

/**
 * An available member of the first tier that has one, never one in `tried` while an untried one is available
 * in any tier; when every untried endpoint is unavailable, a tried one may take the retry. Members in `never` (their
 * protocol cannot serve the call) are never picked.
 */
export function selectMember(
  pool: PoolRuntime,
  tried: ReadonlySet<EndpointState>,
  ctx: Omit<PickContext, 'exclude'>,
  never: ReadonlySet<EndpointState> = NONE,
): PoolMember | undefined {
  const first = never.size === 0 ? tried : new Set([...tried, ...never]);
  for (const tier of pool.tiers) {
    const m = tier.scheduler.pick({ ...ctx, exclude: first });
    if (m) return unchecked(m.endpoint) ? preferChecked(tier.scheduler, m, first, ctx) : m;
  }
  if (tried.size === 0) return undefined;
  for (const tier of pool.tiers) {
    const m = tier.scheduler.pick({ ...ctx, exclude: never });
    if (m) return m;
  }
  return undefined;
}

/** Actively checked, but its first check has not completed yet (a replica just added, maybe still loading). */
const unchecked = (e: EndpointState) => e.activelyChecked && e.health === 'unknown';

/** Most other members a pick looks at to avoid an unchecked one. */
const MAX_SKIPS = 8;

/**
 * `first` is unchecked: another member of the tier whose check passed takes the request if the scheduler offers
 * one within a few picks; otherwise `first` does (at start nothing is checked yet, and a tier of new replicas must
 * still serve). Costs nothing once checks have run: only the window before a new replica's first check pays.
 */
function preferChecked(
  scheduler: Scheduler,
  first: PoolMember,
  tried: ReadonlySet<EndpointState>,
  ctx: Omit<PickContext, 'exclude'>,
): PoolMember {
  const skip = new Set(tried);
  let m: PoolMember | undefined = first;
  for (let k = 0; k < MAX_SKIPS && m && unchecked(m.endpoint); k++) {
    skip.add(m.endpoint);
    m = scheduler.pick({ ...ctx, exclude: skip });
  }
  return m && !unchecked(m.endpoint) ? m : first;
}

/** Why no member of a pool is available: some are only full, and/or some are only rate limited until a time. */
export interface Unavailability {
  /** Some endpoint is healthy and only at its max concurrency: waiting in the queue can help. */
  full: boolean;
  /** Soonest time (ms since epoch) at which a healthy endpoint blocked by Retry-After frees up, if any. */
  soonestRelease: number | undefined;
  /** Some endpoint is loading its model: the soonest time it may be asked again (ms since epoch). */
  loadingUntil: number | undefined;
  /** Exact caps: some healthy endpoint had every fleet-wide slot taken; the soonest time to ask again. */
  fleetFullUntil: number | undefined;
}

/** O(n) diagnosis, for the path where selectMember found nothing. */
export function unavailability(pool: PoolRuntime, now: number): Unavailability {
  let full = false;
  let soonest: number | undefined;
  let loading: number | undefined;
  let fleetFull: number | undefined;
  for (const tier of pool.tiers)
    for (const m of tier.members) {
      const e = m.endpoint;
      if (m.weight <= 0) continue;
      if (e.fullOnly(now)) full = true;
      if (e.limitedUntil > now && e.health !== 'unhealthy' && e.ejectedUntil <= now && !e.awaitingHealthCheck)
        soonest = soonest === undefined ? e.limitedUntil : Math.min(soonest, e.limitedUntil);
      if (e.loading) loading = Math.min(loading ?? Number.POSITIVE_INFINITY, Math.max(now, e.loadingUntil));
      if (e.fleetFullUntil > now && e.health !== 'unhealthy' && e.ejectedUntil <= now && !e.awaitingHealthCheck)
        fleetFull = Math.min(fleetFull ?? Number.POSITIVE_INFINITY, e.fleetFullUntil);
    }
  return { full, soonestRelease: soonest, loadingUntil: loading, fleetFullUntil: fleetFull };
}
