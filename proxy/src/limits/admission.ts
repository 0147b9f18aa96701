/**
 * Admission against the shared store with the policy's failure mode: when Redis cannot answer, a fail-open policy
 * is admitted by this replica's local limiter, a fail-closed one gets a 503; a request with nothing to enforce
 * (cache lookup only) silently uses the local cache. Every limit is a number for the whole fleet: Redis counts it
 * once for all proxies, while the local limiter (no Redis, or Redis down) holds this proxy to its share.
 */
import { type FleetView, fleetShare } from '../../../shared/src/proxyconfig/index.js';
import type { RedisFailure } from '../call/observers.js';
import { errors } from '../errors.js';
import type { LocalLimitStore } from './local-store.js';
import type { BudgetRebuild } from './rebuild.js';
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
  /** Reports a Redis failure (observers, metrics, throttled logs). */
  onFailure(failure: RedisFailure): void;
  /** Rebuilds budget counters Redis lost from the usage ledger (when one is configured). */
  rebuild?: BudgetRebuild | undefined;
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
  const shared = stores.shared;
  if (!shared) return admitLocally(stores, req, fleet, false);
  try {
    return {
      store: shared,
      result: await admitShared(shared, stores.rebuild, req),
      counters: req.counters,
      degraded: false,
    };
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

/**
 * Admission by the shared store. With a ledger, budget counters Redis lost are seeded from it first (rebuild.ts):
 * the store answers which are unseeded without taking anything, they are seeded, and the request is admitted
 * against the rebuilt values; when the ledger cannot tell, the request is admitted against what Redis has.
 */
async function admitShared(shared: LimitStore, rebuild: BudgetRebuild | undefined, req: AdmitRequest) {
  if (!rebuild || !shared.seed || !req.counters.some((c) => c.ledger)) return shared.admit(req);
  const first = await shared.admit({ ...req, checkSeeded: true });
  if (!first.unseeded) return first;
  const unseeded = first.unseeded.flatMap((i) => {
    const c = req.counters[i];
    return c ? [c] : [];
  });
  const amounts = await rebuild(unseeded);
  if (amounts) await shared.seed(unseeded, amounts);
  const second = await shared.admit({ ...req, checkSeeded: amounts !== undefined });
  // Seeded and lost again in between (another flush): admit against what Redis has now.
  return second.unseeded ? shared.admit(req) : second;
}
