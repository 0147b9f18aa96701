/**
 * Admission against the shared store with the policy's failure mode: when Redis cannot answer, a fail-open policy
 * is admitted by this replica's local limiter, a fail-closed one gets a 503; a request with nothing to enforce
 * (cache lookup only) silently uses the local cache. Every limit is a number for the whole fleet: Redis counts it
 * once for all proxies, while the local limiter (no Redis, or Redis down) holds this proxy to its share.
 */
import { type FleetView, fleetShare } from '../../../shared/src/proxyconfig/index.js';
import { errors } from '../errors.js';
import type { RedisFailure } from '../governance-hooks.js';
import type { LocalLimitStore } from './local-store.js';
import {
  type AdmitRequest,
  type AdmitResult,
  type CounterSpec,
  type LimitStore,
  StoreUnavailableError,
} from './types.js';

export interface Stores {
  /** Redis, when configured. */
  shared?: LimitStore | undefined;
  local: LocalLimitStore;
  /** Reports a Redis failure (hooks, metrics, throttled logs). */
  onFailure(failure: RedisFailure): void;
}

/** What admission decided and with which store and counters (the local ones hold this proxy's shares). */
export interface Admission {
  /** The store to settle with. */
  store: LimitStore;
  result: AdmitResult;
  /** The counters as the store applied them: the request's, or their local shares. */
  counters: CounterSpec[];
  /** Redis failed and the local store admitted the request. */
  degraded: boolean;
}

/** The counters with their limits cut to this proxy's share (a local store counts for this proxy alone). */
export function localShares(counters: CounterSpec[], fleet: FleetView | undefined): CounterSpec[] {
  if (!fleet) return counters;
  return counters.map((c) => ({ ...c, limit: fleetShare(c.limit, fleet, c.key) }));
}

async function admitLocally(stores: Stores, req: AdmitRequest, fleet: FleetView | undefined, degraded: boolean) {
  const counters = localShares(req.counters, fleet);
  const result = await stores.local.admit({ ...req, counters });
  return { store: stores.local, result, counters, degraded };
}

/**
 * Admits `req`; `failureMode`: closed when any policy whose counters the request takes is. `fleet`: this proxy's
 * place in the fleet, for its shares when the local store decides.
 */
export async function admitWithFailureMode(
  stores: Stores,
  failureMode: 'open' | 'closed',
  req: AdmitRequest,
  fleet?: FleetView,
): Promise<Admission> {
  if (!stores.shared) return admitLocally(stores, req, fleet, false);
  try {
    return { store: stores.shared, result: await stores.shared.admit(req), counters: req.counters, degraded: false };
  } catch (e) {
    if (!(e instanceof StoreUnavailableError)) throw e;
    const mode = req.counters.length === 0 ? 'none' : failureMode;
    stores.onFailure({ operation: 'admit', mode });
    if (mode === 'closed')
      throw errors.unavailable(
        'Rate limiting is temporarily unavailable; the request was not admitted.',
        'rate_limiter_unavailable',
        1000,
      );
    return admitLocally(stores, req, fleet, true);
  }
}
