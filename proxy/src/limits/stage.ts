/**
 * The limits-and-cache stage: takes every applicable counter (RPM, reserved TPM, concurrency, budgets) and looks up
 * the cache in one store call; a denied request gets a 429, a cache hit is replayed without calling the upstream.
 * Otherwise the answer runs through a RecordingSink (rate-limit and cache headers, bytes for the cache) and, when
 * it ends, reserved tokens are settled with real usage, leases released, cost added and the answer stored.
 */
import type { Logger } from 'pino';
import type { PolicyConfig, PoolConfig } from '../../../shared/src/proxyconfig/index.js';
import { governanceOf } from '../auth/context.js';
import { directoryFor } from '../auth/directory.js';
import { encodeEntry } from '../cache/entry.js';
import { cacheKeyFor, isDeterministic } from '../cache/key.js';
import { RecordingSink } from '../cache/recording-sink.js';
import { replayEntry } from '../cache/replay.js';
import { GatewayError } from '../errors.js';
import type { HookList } from '../governance-hooks.js';
import type { CallMiddleware } from '../pipeline/middleware.js';
import type { ProxyCall } from '../pipeline/types.js';
import { type Admission, admitWithFailureMode, type Stores } from './admission.js';
import { COST_UNITS, countersFor, isCostMetric, isTokenMetric } from './counters.js';
import { estimateTokens, type TokenEstimate } from './estimate.js';
import { rateLimitError, rateLimitHeaders } from './headers.js';
import { type CounterSpec, type LimitStore, StoreUnavailableError } from './types.js';

export interface LimitStageOptions {
  stores: Stores;
  hooks: HookList;
  log: Logger;
  /** Prefix of every Redis key. */
  keyPrefix: string;
  /** Safety expiry of concurrency leases (a replica that dies never releases them). */
  leaseMs: number;
}

/** Counters that need a settle after the answer: tokens and cost are known then, leases are released. */
const needsSettle = (m: CounterSpec['metric']) => m === 'concurrent' || isTokenMetric(m) || isCostMetric(m);

/** The names a request served by `pool` goes by: the pool's own (model name first) and what the client used. */
function namesOf(pool: PoolConfig, call: ProxyCall): string[] {
  const name = pool.id.slice(pool.id.indexOf('/') + 1);
  return [pool.model, ...pool.aliases, pool.id, name, call.model, call.plan?.publicModel ?? call.model];
}

/**
 * The counters of a call: the rateLimits of every policy covering a pool of its plan (its pool and the fallbacks it
 * may reach) and, where that policy holds the caller's key, its tenant's limits; each counter once, with the pools
 * it belongs to.
 */
function callCounters(call: ProxyCall, tokens: number, o: LimitStageOptions) {
  const g = governanceOf(call);
  const dir = directoryFor(call.runtime.config);
  const base = { identity: g.identity, tokens, leaseMs: o.leaseMs, now: Date.now() };
  const byKey = new Map<string, { counter: CounterSpec; pools: Set<string> }>();
  const policies = new Set<PolicyConfig>();
  const add = (list: CounterSpec[], pool: string) => {
    for (const c of list) {
      const seen = byKey.get(c.key);
      if (seen) seen.pools.add(pool);
      else byKey.set(c.key, { counter: c, pools: new Set([pool]) });
    }
  };
  for (const pool of call.plan?.pools ?? []) {
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

/** The cache of the call's pool: its caller's own policy's when that covers it, else the first covering one's. */
function cacheOf(call: ProxyCall) {
  const primary = call.plan?.pools[0];
  if (!primary) return undefined;
  const covering = directoryFor(call.runtime.config).covering(primary.config.id);
  const own = governanceOf(call).own;
  const pick = covering.find((p) => p === own && p.config.cache) ?? covering.find((p) => p.config.cache);
  return pick?.config.cache?.enabled ? pick.config.cache : undefined;
}

/** Creates the limits-and-cache stage. */
export const enforceLimits = (o: LimitStageOptions): CallMiddleware =>
  async function enforceLimits(call, next) {
    const g = governanceOf(call);
    const cache = cacheOf(call);
    const identity = g.identity;
    const cacheKey =
      cache && (cache.nonDeterministic || isDeterministic(call))
        ? cacheKeyFor(call, identity ? `${identity.policy}/${identity.tenant}` : '', o.keyPrefix)
        : undefined;
    const estimate = estimateTokens(call);
    const wanted = callCounters(call, estimate.input + estimate.output, o);
    const { pools, failureMode } = wanted;
    if (wanted.counters.length === 0 && !cache) return next();

    let admitted: Admission;
    try {
      const req = { member: call.state.id, counters: wanted.counters, cacheKey };
      admitted = await admitWithFailureMode(o.stores, failureMode, req, call.runtime.fleet);
    } catch (e) {
      if (e instanceof GatewayError && e.code === 'rate_limiter_unavailable') call.state.limit = 'fail_closed';
      throw e;
    }
    const { store, result, counters } = admitted;
    if (counters.length > 0) {
      const c = result.allowed ? undefined : counters[result.denied ?? 0];
      call.state.limit = c ? 'limited' : admitted.degraded ? 'fail_open' : 'allowed';
      o.hooks.emit('onRateLimit', call, {
        allowed: result.allowed,
        source: store.source,
        ...(c ? { denied: { scope: c.scope, metric: c.metric } } : {}),
      });
      if (c) throw rateLimitError(counters, result);
    }
    const headers = rateLimitHeaders(counters, result);
    if (cache) headers['x-switchyard-cache'] = 'miss';
    if (result.cached !== undefined && replayEntry(call, result.cached, headers)) {
      o.hooks.emit('onCache', call, 'hit');
      return;
    }
    if (cache) {
      call.state.cache = cacheKey ? 'miss' : 'bypass';
      o.hooks.emit('onCache', call, call.state.cache);
    }
    const sink = new RecordingSink(call.sink, headers, cacheKey !== undefined, cache?.maxEntryBytes ?? 0);
    call.sink = sink;
    try {
      await next();
    } catch (e) {
      // An answer that failed before its head was sent still tells the client where its limits stand.
      throw e instanceof GatewayError && !sink.headSent ? e.withHeaders(headers) : e;
    } finally {
      const body = cacheKey && !call.state.errorCode ? sink.recorded() : undefined;
      const cacheStore =
        cache && cacheKey && body !== undefined
          ? {
              key: cacheKey,
              value: encodeEntry({ contentType: sink.contentType ?? 'application/json', body }),
              ttlMs: cache.ttlMs,
            }
          : undefined;
      if (cacheStore || counters.some((c) => needsSettle(c.metric))) {
        // An unreadable entry was a hit for the store: it took no token/concurrency counters then.
        const taken = result.cached === undefined;
        await settle(o, store, call, { counters, pools }, result.nowMs, estimate, taken, cacheStore);
        if (cacheStore) o.hooks.emit('onCache', call, 'stored');
      }
    }
  };

/** Tokens the request really used: upstream usage (or the stream estimate), else its input if it was attempted. */
function usedTokens(call: ProxyCall, estimate: TokenEstimate): number {
  const s = call.state;
  if (s.inputTokens !== undefined || s.outputTokens !== undefined) return (s.inputTokens ?? 0) + (s.outputTokens ?? 0);
  return s.attempts > 0 ? estimate.input : 0;
}

async function settle(
  o: LimitStageOptions,
  store: LimitStore,
  call: ProxyCall,
  taken: { counters: CounterSpec[]; pools: Set<string>[] },
  admittedAt: number,
  estimate: TokenEstimate,
  counted: boolean,
  cacheStore: { key: string; value: string; ttlMs: number } | undefined,
): Promise<void> {
  const used = usedTokens(call, estimate);
  const cost = Math.round((call.state.cost ?? 0) * COST_UNITS);
  const served = call.state.pool;
  const deltas = taken.counters.map((c, i) => {
    // Counters of pools that did not serve the call keep its request, not its tokens or cost.
    const here = served !== undefined && taken.pools[i]?.has(served) === true;
    if (isCostMetric(c.metric)) return here ? cost : 0;
    if (!isTokenMetric(c.metric)) return 0;
    return (here ? used : 0) - (counted || !c.skipOnHit ? c.amount : 0);
  });
  try {
    await store.settle({ member: call.state.id, admittedAt, counters: taken.counters, deltas, cacheStore });
  } catch (e) {
    if (!(e instanceof StoreUnavailableError)) {
      o.log.error({ err: e, requestId: call.state.id }, 'settling rate-limit counters failed');
      return;
    }
    // Leases expire on their own; the reservation stays as the estimate.
    o.stores.onFailure({ operation: 'settle', mode: 'none' });
  }
}
