/**
 * Whether the cache may answer a call, and under which key: the cache of the call's pool (its caller's own policy's
 * when that covers the pool, else the first covering one's), for deterministic requests only unless the policy says
 * otherwise (key.ts). The limits stage looks the key up with its admission, in the same store round trip.
 */
import type { AuthorizedCall, CachePlan } from '../call/call.js';
import { cacheKeyFor, isDeterministic } from './key.js';

/** The cache plan of `call`, or undefined when no cache covers its pool. */
export function cachePlanFor(call: AuthorizedCall, keyPrefix: string): CachePlan | undefined {
  const primary = call.route.pools[0];
  if (!primary) return undefined;
  const covering = call.runtime.directory.covering(primary.config.id);
  const own = call.grant.own;
  const pick = covering.find((p) => p === own && p.config.cache) ?? covering.find((p) => p.config.cache);
  const cache = pick?.config.cache;
  if (!cache?.enabled) return undefined;
  const identity = call.grant.identity;
  const key =
    cache.nonDeterministic || isDeterministic(call)
      ? cacheKeyFor(call, identity ? `${identity.policy}/${identity.tenant}` : '', keyPrefix)
      : undefined;
  return { key, ttlMs: cache.ttlMs, maxEntryBytes: cache.maxEntryBytes };
}
