/**
 * The limits stage: takes every applicable counter (RPM, reserved TPM, concurrency, budgets) in one store call,
 * which also looks up the cache plan's key (cache/plan.ts) so a cacheable request costs one round trip; a denied
 * request gets a 429. The call goes on admitted (the cached entry found, if any, for the cache stage) with the
 * rate-limit headers on its answer; when the answer ends, reserved tokens are settled with the real usage, leases
 * released, cost added and, in the same round trip, the answer the cache stage hands back stored.
 */

import type { Logger } from 'pino';
import { type Clock, systemClock } from '../../../shared/src/clock.js';
import type { PolicyConfig, PoolConfig } from '../../../shared/src/proxyconfig/index.js';
import { cachePlanFor } from '../cache/plan.js';
import type { AdmittedCall, AuthorizedCall, Stage } from '../call/call.js';
import type { Observers } from '../call/observers.js';
import { GatewayError } from '../errors.js';
import { HeaderSink } from '../http/delegating-sink.js';
import { admitWithFailureMode, type Stores } from './admission.js';
import { COST_UNITS, countersFor, isCostMetric, isTokenMetric } from './counters.js';
import { estimateTokens, type TokenEstimate } from './estimate.js';
import { rateLimitError, rateLimitHeaders } from './headers.js';
import { type CounterSpec, type LimitStore, StoreUnavailableError } from './types.js';

export interface LimitStageOptions {
  stores: Stores;
  observers: Observers;
  log: Logger;
  /** Prefix of every Redis key. */
  keyPrefix: string;
  /** Safety expiry of concurrency leases (a replica that dies never releases them). */
  leaseMs: number;
  /** Clock of the counters' windows and periods (default: the system clock). */
  clock?: Clock;
}

/** Counters that need a settle after the answer: tokens and cost are known then, leases are released. */
const needsSettle = (m: CounterSpec['metric']) => m === 'concurrent' || isTokenMetric(m) || isCostMetric(m);

/** The names a request served by `pool` goes by: the pool's own (model name first) and what the client used. */
function namesOf(pool: PoolConfig, call: AuthorizedCall): string[] {
  const name = pool.id.slice(pool.id.indexOf('/') + 1);
  return [pool.model, ...pool.aliases, pool.id, name, call.model, call.route.publicModel];
}

/**
 * The counters of a call: the rateLimits of every policy covering a pool of its plan (its pool and the fallbacks it
 * may reach) and, where that policy holds the caller's key, its tenant's limits; each counter once, with the pools
 * it belongs to.
 */
function callCounters(call: AuthorizedCall, tokens: number, o: LimitStageOptions) {
  const g = call.grant;
  const dir = call.runtime.directory;
  const base = { identity: g.identity, tokens, leaseMs: o.leaseMs, now: (o.clock ?? systemClock).now() };
  const byKey = new Map<string, { counter: CounterSpec; pools: Set<string> }>();
  const policies = new Set<PolicyConfig>();
  const add = (list: CounterSpec[], pool: string) => {
    for (const c of list) {
      const seen = byKey.get(c.key);
      if (seen) seen.pools.add(pool);
      else byKey.set(c.key, { counter: c, pools: new Set([pool]) });
    }
  };
  for (const pool of call.route.pools) {
    for (const p of dir.covering(pool.config.id)) {
      policies.add(p.config);
      // The tenant's own limits count the requests its policy's pools serve.
      const tenant = p === g.own ? g.tenant : undefined;
      const input = { ...base, policy: p.config, tenant, models: namesOf(pool.config, call) };
      add(countersFor(input, o.keyPrefix), pool.config.id);
    }
  }
  const entries = [...byKey.values()];
  return {
    counters: entries.map((e) => e.counter),
    /** The pools each counter belongs to: it counts the call's tokens and cost when one of them served it. */
    pools: entries.map((e) => e.pools),
    failureMode: [...policies].some((p) => p.failureMode === 'closed') ? ('closed' as const) : ('open' as const),
  };
}

/** Admission of a call nothing limits or caches. */
const FREE: AdmittedCall['admission'] = { cache: undefined, cached: undefined, headers: {}, storeWithSettle() {} };

/** Creates the limits stage. */
export const enforceLimits = (o: LimitStageOptions): Stage<AuthorizedCall, AdmittedCall> =>
  async function enforceLimits(call, next) {
    const cache = cachePlanFor(call, o.keyPrefix);
    const estimate = estimateTokens(call);
    const wanted = callCounters(call, estimate.input + estimate.output, o);
    const { pools, failureMode } = wanted;
    if (wanted.counters.length === 0 && !cache) return next({ ...call, admission: FREE });

    let admitted: Awaited<ReturnType<typeof admitWithFailureMode>>;
    try {
      const req = { member: call.record.id, counters: wanted.counters, cacheKey: cache?.key };
      admitted = await admitWithFailureMode(o.stores, failureMode, req, call.runtime.fleet);
    } catch (e) {
      if (e instanceof GatewayError && e.code === 'rate_limiter_unavailable') call.record.limit = 'fail_closed';
      throw e;
    }
    const { store, result, counters } = admitted;
    if (counters.length > 0) {
      const c = result.allowed ? undefined : counters[result.denied ?? 0];
      call.record.limit = c ? 'limited' : admitted.degraded ? 'fail_open' : 'allowed';
      o.observers.emit('onRateLimit', call, {
        allowed: result.allowed,
        source: store.source,
        ...(c ? { denied: { scope: c.scope, metric: c.metric } } : {}),
      });
      if (c) throw rateLimitError(counters, result);
    }
    const headers = rateLimitHeaders(counters, result);
    let toStore: { key: string; value: string; ttlMs: number } | undefined;
    const admission: AdmittedCall['admission'] = {
      cache,
      cached: result.cached,
      headers,
      storeWithSettle(entry) {
        if (cache?.key) toStore ??= { key: cache.key, ...entry };
      },
    };
    const sink = new HeaderSink(call.sink, headers);
    try {
      await next({ ...call, sink, admission });
    } catch (e) {
      // An answer that failed before its head was sent still tells the client where its limits stand.
      throw e instanceof GatewayError && !sink.headSent ? e.withHeaders(headers) : e;
    } finally {
      // A cached answer took no token or concurrency counters: nothing to settle.
      if (call.record.cache !== 'hit' && (toStore || counters.some((c) => needsSettle(c.metric)))) {
        // An unreadable entry was a hit for the store: it took no token/concurrency counters then.
        const taken = result.cached === undefined;
        await settle(o, store, call, { counters, pools }, result.nowMs, estimate, taken, toStore);
        if (toStore) o.observers.emit('onCache', call, 'stored');
      }
    }
  };

/** Tokens the request really used: upstream usage (or the stream estimate), else its input if it was attempted. */
function usedTokens(call: AuthorizedCall, estimate: TokenEstimate): number {
  const u = call.record.usage;
  if (u) return u.inputTokens + u.outputTokens;
  return call.record.upstream.attempts > 0 ? estimate.input : 0;
}

async function settle(
  o: LimitStageOptions,
  store: LimitStore,
  call: AuthorizedCall,
  taken: { counters: CounterSpec[]; pools: Set<string>[] },
  admittedAt: number,
  estimate: TokenEstimate,
  counted: boolean,
  cacheStore: { key: string; value: string; ttlMs: number } | undefined,
): Promise<void> {
  const used = usedTokens(call, estimate);
  const cost = Math.round((call.record.usage?.cost ?? 0) * COST_UNITS);
  const served = call.record.upstream.pool;
  const deltas = taken.counters.map((c, i) => {
    // Counters of pools that did not serve the call keep its request, not its tokens or cost.
    const here = served !== undefined && taken.pools[i]?.has(served) === true;
    if (isCostMetric(c.metric)) return here ? cost : 0;
    if (!isTokenMetric(c.metric)) return 0;
    return (here ? used : 0) - (counted || !c.skipOnHit ? c.amount : 0);
  });
  try {
    await store.settle({ member: call.record.id, admittedAt, counters: taken.counters, deltas, cacheStore });
  } catch (e) {
    if (!(e instanceof StoreUnavailableError)) {
      o.log.error({ err: e, requestId: call.record.id }, 'settling rate-limit counters failed');
      return;
    }
    // Leases expire on their own; the reservation stays as the estimate.
    o.stores.onFailure({ operation: 'settle', mode: 'none' });
  }
}
