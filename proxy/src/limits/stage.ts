/**
 * The limits-and-cache stage: takes every applicable counter (RPM, reserved TPM, concurrency, budgets) and looks up
 * the cache in one store call; a denied request gets a 429, a cache hit is replayed without calling the upstream.
 * Otherwise the answer runs through a RecordingSink (rate-limit and cache headers, bytes for the cache) and, when
 * it ends, reserved tokens are settled with real usage, leases released, cost added and the answer stored.
 */
import type { Logger } from 'pino';
import { governanceOf } from '../auth/context.js';
import { encodeEntry } from '../cache/entry.js';
import { cacheKeyFor, isDeterministic } from '../cache/key.js';
import { RecordingSink } from '../cache/recording-sink.js';
import { replayEntry } from '../cache/replay.js';
import { GatewayError } from '../errors.js';
import type { HookList } from '../governance-hooks.js';
import type { CallMiddleware } from '../pipeline/middleware.js';
import type { ProxyCall } from '../pipeline/types.js';
import { admitWithFailureMode, type Stores } from './admission.js';
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

/** Creates the limits-and-cache stage. */
export const enforceLimits = (o: LimitStageOptions): CallMiddleware =>
  async function enforceLimits(call, next) {
    const g = governanceOf(call);
    const policy = g.policy?.config;
    if (!policy) return next();
    const cache = policy.cache?.enabled ? policy.cache : undefined;
    const cacheKey =
      cache && (cache.nonDeterministic || isDeterministic(call))
        ? cacheKeyFor(call, g.identity?.tenant ?? '', o.keyPrefix)
        : undefined;
    const estimate = estimateTokens(call);
    const counters = countersFor(
      {
        policy,
        tenant: g.tenant,
        identity: g.identity,
        model: call.model,
        tokens: estimate.input + estimate.output,
        leaseMs: o.leaseMs,
        now: Date.now(),
      },
      o.keyPrefix,
    );
    if (counters.length === 0 && !cache) return next();

    let admitted: Awaited<ReturnType<typeof admitWithFailureMode>>;
    try {
      admitted = await admitWithFailureMode(o.stores, policy, { member: call.state.id, counters, cacheKey });
    } catch (e) {
      if (e instanceof GatewayError && e.code === 'rate_limiter_unavailable') call.state.limit = 'fail_closed';
      throw e;
    }
    const { store, result } = admitted;
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
        await settle(o, store, call, counters, result.nowMs, estimate, taken, cacheStore);
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
  counters: CounterSpec[],
  admittedAt: number,
  estimate: TokenEstimate,
  taken: boolean,
  cacheStore: { key: string; value: string; ttlMs: number } | undefined,
): Promise<void> {
  const used = usedTokens(call, estimate);
  const cost = Math.round((call.state.cost ?? 0) * COST_UNITS);
  const deltas = counters.map((c) => {
    if (isCostMetric(c.metric)) return cost;
    if (!isTokenMetric(c.metric)) return 0;
    return used - (taken || !c.skipOnHit ? c.amount : 0);
  });
  try {
    await store.settle({ member: call.state.id, admittedAt, counters, deltas, cacheStore });
  } catch (e) {
    if (!(e instanceof StoreUnavailableError)) {
      o.log.error({ err: e, requestId: call.state.id }, 'settling rate-limit counters failed');
      return;
    }
    // Leases expire on their own; the reservation stays as the estimate.
    o.stores.onFailure({ operation: 'settle', mode: 'none' });
  }
}
