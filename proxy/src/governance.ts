/**
 * Governance: the call stages of route resolution, API keys and tenants, request-side guardrails, the system prompt,
 * rate limits, the response cache, usage/cost and response-side guardrails, and the state they share across calls. Redis (optional) makes
 * limits and the cache shared across replicas; without it they are local to this replica. What they decide is
 * reported to the proxy's observers.
 */
import type { Logger } from 'pino';
import { type Clock, systemClock } from '../../shared/src/clock.js';
import type { ProxyConfig } from '../../shared/src/proxyconfig/index.js';
import { callerOf } from './auth/authorize.js';
import { authenticate, screenCaller } from './auth/stage.js';
import { serveFromCache } from './cache/stage.js';
import { type AdmittedCall, type AuthorizedCall, before, type Call } from './call/call.js';
import type { Observers, RedisFailure } from './call/observers.js';
import { GuardrailRegistry } from './guardrails/registry.js';
import { guardRequest, guardResponse } from './guardrails/stage.js';
import { LocalLimitStore } from './limits/local-store.js';
import { MemoryCache } from './limits/memory-cache.js';
import { type BudgetUsage, createBudgetRebuild } from './limits/rebuild.js';
import { RedisClient } from './limits/redis-client.js';
import { RedisLimitStore } from './limits/redis-store.js';
import { ReplicaLeases } from './limits/replica-leases.js';
import { enforceLimits } from './limits/stage.js';
import { applySystemPrompt, routeCall } from './routing/stage.js';
import { meterUsage } from './usage/stage.js';

export interface GovernanceOptions {
  log: Logger;
  observers: Observers;
  /** redis://host:port/db; omitted: local limits and an in-memory cache only. */
  redisUrl?: string | undefined;
  /** Redis command timeout, ms (default 1000). */
  redisCommandTimeoutMs?: number;
  /** Prefix of every Redis key (default `switchyard:`). */
  keyPrefix?: string;
  /** Safety expiry of concurrency leases never released, ms (default 5 min). */
  leaseMs?: number;
  /** Size bound of the in-memory cache, bytes (default 32 MiB). */
  memoryCacheBytes?: number;
  /** The usage ledger's budget sums: budget counters Redis lost are rebuilt from them (limits/rebuild.ts). */
  budgetUsage?: BudgetUsage | undefined;
  /** The snapshot served now (for the rebuild). */
  config?: () => ProxyConfig | undefined;
  /**
   * Time of the rate windows and budget periods, the budgets' rebuild from the ledger, the replica leases' renewals
   * and the external guardrails' deadlines (default: the system clock).
   */
  clock?: Clock;
}

export interface GovernanceStats {
  redis: 'none' | 'up' | 'down';
  /** Redis round-trips made so far. */
  redisCommands: number;
  /** Redis failures by `${operation}_${mode}` (admit_open, admit_closed, admit_none, settle_none). */
  redisFailures: Record<string, number>;
}

export interface Governance {
  /**
   * The call stages in front of `pipeline`, in their order: route → authenticate → request guardrails → system
   * prompt → limits → cache → usage → response guardrails. Each stage's type says what it needs of the call and what
   * it adds.
   */
  stages(pipeline: (call: AdmittedCall) => Promise<void>): (call: Call) => Promise<void>;
  /** The caller's credentials from the headers, before the body is read (auth/stage.ts `screenCaller`). */
  screen: ReturnType<typeof screenCaller>;
  stats(): GovernanceStats;
  /** Fleet-wide replica leases in the shared Redis (exact caps); undefined without Redis. */
  leases: ReplicaLeases | undefined;
  /** Resolves true once Redis is connected (immediately when none is configured), false after `timeoutMs`. */
  ready(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

const LOG_EVERY_MS = 10_000;

/** Builds the governance stages and their shared state. */
export function createGovernance(opts: GovernanceOptions): Governance {
  const { log, observers } = opts;
  const clock = opts.clock ?? systemClock;
  const client = opts.redisUrl
    ? new RedisClient({
        url: opts.redisUrl,
        log,
        ...(opts.redisCommandTimeoutMs !== undefined ? { commandTimeoutMs: opts.redisCommandTimeoutMs } : {}),
        onState: (up) => observers.emit('onRedisState', up),
      })
    : undefined;
  const failures: Record<string, number> = {};
  let lastLog = 0;
  let unlogged = 0;
  const onFailure = (f: RedisFailure) => {
    const name = `${f.operation}_${f.mode}`;
    failures[name] = (failures[name] ?? 0) + 1;
    observers.emit('onRedisFailure', f);
    unlogged++;
    const now = clock.now();
    if (now - lastLog >= LOG_EVERY_MS) {
      log.warn(
        { operation: f.operation, failureMode: f.mode, failures: unlogged },
        f.mode === 'closed'
          ? 'redis unavailable: fail-closed policy answered 503'
          : 'redis unavailable: serving with local per-replica limits',
      );
      lastLog = now;
      unlogged = 0;
    }
  };
  const rebuild =
    client && opts.budgetUsage
      ? createBudgetRebuild({
          usage: opts.budgetUsage,
          config: opts.config ?? (() => undefined),
          log,
          clock,
          onResult: (result, counters) => observers.emit('onBudgetRebuild', result, counters),
        })
      : undefined;
  const stores = {
    shared: client ? new RedisLimitStore(client) : undefined,
    local: new LocalLimitStore(new MemoryCache(opts.memoryCacheBytes), () => clock.now()),
    onFailure,
    rebuild,
  };
  const keyPrefix = opts.keyPrefix ?? 'switchyard:';
  const leases = client
    ? new ReplicaLeases(client, {
        keyPrefix,
        log,
        clock,
        onEvent: (backend, event) => observers.emit('onReplicaLease', backend, event),
      })
    : undefined;
  const guardrails = new GuardrailRegistry(clock);
  const route = routeCall((call) => callerOf(call.runtime, call.header).identity);
  const auth = authenticate(observers);
  const guard = guardRequest(guardrails, observers);
  const systemPrompt = applySystemPrompt();
  const limits = enforceLimits({
    stores,
    observers,
    log,
    keyPrefix,
    leaseMs: opts.leaseMs ?? 300_000,
    clock,
  });
  const cache = serveFromCache(observers);
  const usage = meterUsage<AdmittedCall>(observers);
  const guardAnswer = guardResponse<AdmittedCall>(guardrails, observers);
  return {
    stages: (pipeline) =>
      before(
        route,
        before(
          auth,
          before<AuthorizedCall, AuthorizedCall>(
            guard,
            before(systemPrompt, before(limits, before(cache, before(usage, before(guardAnswer, pipeline))))),
          ),
        ),
      ),
    screen: screenCaller(observers),
    stats: () => ({
      redis: client ? (client.up ? 'up' : 'down') : 'none',
      redisCommands: client?.commands ?? 0,
      redisFailures: { ...failures },
    }),
    leases,
    ready: (timeoutMs) => (client ? client.ready(timeoutMs) : Promise.resolve(true)),
    close: async () => {
      leases?.close();
      await Promise.all([client?.close(), guardrails.close()]);
    },
  };
}
