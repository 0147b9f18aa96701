/**
 * Observers of governance decisions (auth, rate limits, cache, usage, Redis health, guardrails) for metrics and logs. The
 * observability stage registers with `Governance.addHooks()`; nothing here depends on prom-client. Hooks must not
 * throw (a throwing hook is ignored).
 */
import type { ProxyCall } from './pipeline/types.js';

export type AuthOutcome = 'authenticated' | 'anonymous' | 'missing_key' | 'invalid_key' | 'forbidden';

export interface RateLimitDecision {
  allowed: boolean;
  /** Where the decision was taken: shared Redis counters or this replica's local limiter. */
  source: 'redis' | 'local';
  /** The counter that denied the request (scope: key|tenant|model|global; metric: requests|tokens|...). */
  denied?: { scope: string; metric: string };
}

export interface UsageRecord {
  inputTokens: number;
  outputTokens: number;
  /** True when the upstream reported no usage (client abort) and the counts were estimated. */
  estimated: boolean;
  cost?: number;
  currency?: string;
}

export interface RedisFailure {
  operation: 'admit' | 'settle';
  /** What the request got: local limits (open), a 503 (closed), or nothing to enforce (none). */
  mode: 'open' | 'closed' | 'none';
}

/** One guardrail check of a call: which guardrail, on what, what it decided and how long it took. */
export interface GuardrailDecision {
  /** namespace/policy/name */
  guardrail: string;
  kind: 'local' | 'external';
  phase: 'request' | 'response';
  action: 'allow' | 'mask' | 'deny';
  /** The check failed (timeout, unavailable, saturated, bad_response) and the failure mode decided. */
  failed?: { mode: 'open' | 'closed'; cause: string } | undefined;
  durationMs: number;
}

export interface GovernanceHooks {
  /** `call` is undefined for a caller refused from its headers, before its body was read. */
  onAuth?(call: ProxyCall | undefined, outcome: AuthOutcome): void;
  onRateLimit?(call: ProxyCall, decision: RateLimitDecision): void;
  onCache?(call: ProxyCall, result: 'hit' | 'miss' | 'bypass' | 'stored'): void;
  onUsage?(call: ProxyCall, usage: UsageRecord): void;
  onRedisFailure?(failure: RedisFailure): void;
  onRedisState?(up: boolean): void;
  onGuardrail?(call: ProxyCall, decision: GuardrailDecision): void;
  /** Budget counters Redis lost were rebuilt from the usage ledger (`seeded`) or could not be (`failed`). */
  onBudgetRebuild?(result: 'seeded' | 'failed', counters: number): void;
}

type Args<K extends keyof GovernanceHooks> = Parameters<NonNullable<GovernanceHooks[K]>>;

/** A set of hook observers called in registration order. */
export class HookList {
  private readonly list: GovernanceHooks[] = [];

  add(h: GovernanceHooks): void {
    this.list.push(h);
  }

  emit<K extends keyof GovernanceHooks>(name: K, ...args: Args<K>): void {
    for (const h of this.list) {
      const fn = h[name] as ((...a: Args<K>) => void) | undefined;
      if (!fn) continue;
      try {
        fn.apply(h, args);
      } catch {
        // observers must not break requests
      }
    }
  }
}
