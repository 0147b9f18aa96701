/**
 * Admission against the shared store with the policy's failure mode: when Redis cannot answer, a fail-open policy
 * is admitted by this replica's local limiter, a fail-closed one gets a 503; a request with nothing to enforce
 * (cache lookup only) silently uses the local cache.
 */
import { errors } from '../errors.js';
import type { RedisFailure } from '../governance-hooks.js';
import type { LocalLimitStore } from './local-store.js';
import { type AdmitRequest, type AdmitResult, type LimitStore, StoreUnavailableError } from './types.js';

export interface Stores {
  /** Redis, when configured. */
  shared?: LimitStore | undefined;
  local: LocalLimitStore;
  /** Reports a Redis failure (hooks, metrics, throttled logs). */
  onFailure(failure: RedisFailure): void;
}

/**
 * Admits `req`; the store returned is the one to settle with, `degraded` when Redis failed and it is local.
 * `failureMode`: closed when any policy whose counters the request takes is.
 */
export async function admitWithFailureMode(
  stores: Stores,
  failureMode: 'open' | 'closed',
  req: AdmitRequest,
): Promise<{ store: LimitStore; result: AdmitResult; degraded: boolean }> {
  if (!stores.shared) return { store: stores.local, result: await stores.local.admit(req), degraded: false };
  try {
    return { store: stores.shared, result: await stores.shared.admit(req), degraded: false };
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
    return { store: stores.local, result: await stores.local.admit(req), degraded: true };
  }
}
