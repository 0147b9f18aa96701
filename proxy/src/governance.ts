/**
 * Governance: the call-middleware stages for route resolution, API keys and tenants, request-side guardrails, the
 * system prompt, rate limits, the response cache, usage/cost and response-side guardrails, in that order (outermost
 * first). Redis (optional) makes limits and the cache
 * shared across replicas; without it
 * they are local to this replica. Observers register with `addHooks()` (metrics live elsewhere).
 */
import type { Logger } from 'pino';
import type { ProxyConfig } from '../../shared/src/proxyconfig/index.js';
import { callerOf } from './auth/authorize.js';
import { authenticate, screenCaller } from './auth/stage.js';
import { MemoryCache } from './cache/memory-cache.js';
import { type GovernanceHooks, HookList, type RedisFailure } from './governance-hooks.js';
import { GuardrailRegistry } from './guardrails/registry.js';
import { guardRequest, guardResponse } from './guardrails/stage.js';
import { LocalLimitStore } from './limits/local-store.js';
import { type BudgetUsage, createBudgetRebuild } from './limits/rebuild.js';
import { RedisClient } from './limits/redis-client.js';
import { RedisLimitStore } from './limits/redis-store.js';
import { enforceLimits } from './limits/stage.js';
import type { CallMiddleware } from './pipeline/middleware.js';
import { applySystemPrompt, resolveCallRoute } from './routing/stage.js';
import { meterUsage } from './usage/stage.js';

export interface GovernanceOptions {
  log: Logger;
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
   * Call middleware, outermost first: route → authenticate → request guardrails → system prompt → limits + cache →
   * usage → response guardrails.
   */
  stages: CallMiddleware[];
  /** The caller's credentials from the headers, before the body is read (auth/stage.ts `screenCaller`). */
  screen: ReturnType<typeof screenCaller>;
  addHooks(hooks: GovernanceHooks): void;
  stats(): GovernanceStats;
  /** Resolves true once Redis is connected (immediately when none is configured), false after `timeoutMs`. */
  ready(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

const LOG_EVERY_MS = 10_000;

/** Builds the governance stages and their shared state. */
export function createGovernance(opts: GovernanceOptions): Governance {
  const hooks = new HookList();
  const log = opts.log;
  const client = opts.redisUrl
    ? new RedisClient({
        url: opts.redisUrl,
        log,
        ...(opts.redisCommandTimeoutMs !== undefined ? { commandTimeoutMs: opts.redisCommandTimeoutMs } : {}),
        onState: (up) => hooks.emit('onRedisState', up),
      })
    : undefined;
  const failures: Record<string, number> = {};
  let lastLog = 0;
  let unlogged = 0;
  const onFailure = (f: RedisFailure) => {
    const name = `${f.operation}_${f.mode}`;
    failures[name] = (failures[name] ?? 0) + 1;
    hooks.emit('onRedisFailure', f);
    unlogged++;
    const now = Date.now();
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
          onResult: (result, counters) => hooks.emit('onBudgetRebuild', result, counters),
        })
      : undefined;
  const stores = {
    shared: client ? new RedisLimitStore(client) : undefined,
    local: new LocalLimitStore(new MemoryCache(opts.memoryCacheBytes)),
    onFailure,
    rebuild,
  };
  const guardrails = new GuardrailRegistry();
  const stages: CallMiddleware[] = [
    resolveCallRoute((call) => callerOf(call.runtime, call.header).identity),
    authenticate(hooks),
    guardRequest(guardrails, hooks),
    applySystemPrompt(),
    enforceLimits({ stores, hooks, log, keyPrefix: opts.keyPrefix ?? 'switchyard:', leaseMs: opts.leaseMs ?? 300_000 }),
    meterUsage(hooks),
    guardResponse(guardrails, hooks),
  ];
  return {
    stages,
    screen: screenCaller(hooks),
    addHooks: (h) => hooks.add(h),
    stats: () => ({
      redis: client ? (client.up ? 'up' : 'down') : 'none',
      redisCommands: client?.commands ?? 0,
      redisFailures: { ...failures },
    }),
    ready: (timeoutMs) => (client ? client.ready(timeoutMs) : Promise.resolve(true)),
    close: async () => {
      await Promise.all([client?.close(), guardrails.close()]);
    },
  };
}
