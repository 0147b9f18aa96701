/**
 * The one observer mechanism of the proxy: metrics, traces, the access log, the ledger and tests watch the request
 * path through CallObserver events. One rule for observer exceptions: an observer that throws is contained (the
 * request and the other observers go on), logged, and counted (`switchyard_observer_failures_total`).
 */
import type { Logger } from 'pino';
import type { PoolMember } from '../endpoints/member.js';
import type { EndpointState, Health } from '../endpoints/state.js';
import type { UpstreamRequest } from '../protocols/types.js';
import type { AuthorizedCall, Call } from './call.js';
import type { AttemptOutcome, FailureCause } from './outcome.js';
import type { CallRecord, RequestSummary, ShedReason } from './record.js';

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

/**
 * What became of a fleet-wide lease request (`granted`, `full`, `error`: Redis did not answer; with the round-trip in
 * seconds), or of an attempt sent within this proxy's share while leasing was off (`down`, `cooldown`).
 */
export type LeaseEvent = { kind: 'granted' | 'full' | 'error'; seconds: number } | { kind: 'down' | 'cooldown' };

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

/** Events of the request path, all optional. Cheap: they run inside the request path and its stream callbacks. */
export interface CallObserver {
  /** A validated request enters the call stages. */
  onCallStart?(call: Call): void;
  /** The call's route and request are final: it is answered now, by the upstream pipeline or from the cache. */
  onAnswering?(call: AuthorizedCall): void;
  /** The call stages returned (answered, refused, or failed). */
  onCallEnd?(call: Call): void;
  /** The response is complete, or the client left: the request's summary, and its record (an identity to key by). */
  onRequestEnd?(request: RequestSummary, record: CallRecord): void;

  /** `call` is undefined for a caller refused from its headers, before its body was read. */
  onAuth?(call: Call | undefined, outcome: AuthOutcome): void;
  onGuardrail?(call: Call, decision: GuardrailDecision): void;
  onRateLimit?(call: Call, decision: RateLimitDecision): void;
  onCache?(call: Call, result: 'hit' | 'miss' | 'bypass' | 'stored'): void;
  onUsage?(call: Call, usage: UsageRecord): void;
  onRedisFailure?(failure: RedisFailure): void;
  onRedisState?(up: boolean): void;
  /** Budget counters Redis lost were rebuilt from the usage ledger (`seeded`) or could not be (`failed`). */
  onBudgetRebuild?(result: 'seeded' | 'failed', counters: number): void;
  /** A fleet-wide lease of a replica of `backend` (exact mode) was asked for, or an attempt went within the share. */
  onReplicaLease?(backend: string, event: LeaseEvent): void;

  /** The call got its first slot in `pool` (queued or not): it is admitted there, in class `call.record.flow.cls`. */
  onSlot?(call: AuthorizedCall, pool: string): void;
  onAttemptStart?(call: AuthorizedCall, member: PoolMember, attempt: number): void;
  /** Just before an attempt is sent; may add headers to `request` (trace context). */
  onUpstreamRequest?(call: AuthorizedCall, member: PoolMember, request: UpstreamRequest): void;
  onFirstByte?(call: AuthorizedCall, member: PoolMember, ttfbMs: number): void;
  onAttemptEnd?(call: AuthorizedCall, member: PoolMember, outcome: AttemptOutcome, durationMs: number): void;
  /** A failed attempt (`cause`) is followed by another one: same pool, next tier or a fallback pool. */
  onRetry?(call: AuthorizedCall, cause: FailureCause): void;
  /** The pool's retry budget refused a retry: the call ends with its last error. */
  onRetryBudgetExhausted?(call: AuthorizedCall, pool: string): void;
  onFallback?(call: AuthorizedCall, fromPool: string, toPool: string): void;
  /**
   * The call waited for a free slot of `pool` (every endpoint at its max concurrency, waiters ahead of it, or the
   * critical reserve): 'woken' (may pick again), 'timeout', 'full' (queue full, refused at once), 'shed' (displaced
   * by a higher-ranked request) or 'aborted' (client left); `waitedMs` since it first queued there.
   */
  onQueueWait?(
    call: AuthorizedCall,
    pool: string,
    outcome: 'woken' | 'timeout' | 'full' | 'aborted' | 'shed',
    waitedMs: number,
  ): void;
  /**
   * Overload refused the call at `pool` before it reached a replica (docs/priority.md): its class is
   * `call.record.flow.cls`. The next pool of its route may still take it.
   */
  onShed?(call: AuthorizedCall, pool: string, reason: ShedReason): void;
  /** Passive outlier detection took `endpoint` out of traffic for `durationMs` (pool: where it failed). */
  onEjection?(endpoint: EndpointState, pool: string, durationMs: number): void;
  /** An active health check changed an endpoint's health (not per request). */
  onHealthChange?(endpoint: EndpointState, from: Health, to: Health): void;
}

export type ObserverEvent = keyof CallObserver;
type Args<K extends ObserverEvent> = Parameters<NonNullable<CallObserver[K]>>;

/** The observers of one proxy, called in the order they were added. */
export class Observers {
  private readonly list: CallObserver[] = [];
  private failed: ((event: ObserverEvent) => void) | undefined;

  constructor(private readonly log: Logger) {}

  add(observer: CallObserver): void {
    this.list.push(observer);
  }

  /** Where observer failures are counted (the metrics, once they exist). */
  countFailures(count: (event: ObserverEvent) => void): void {
    this.failed = count;
  }

  /** Tells every observer of `event`; one that throws is logged and counted, and the others still run. */
  emit<K extends ObserverEvent>(event: K, ...args: Args<K>): void {
    for (const o of this.list) {
      const fn: unknown = o[event];
      if (typeof fn !== 'function') continue;
      try {
        Reflect.apply(fn, o, args);
      } catch (e) {
        this.log.error({ err: e, event }, 'observer failed');
        try {
          this.failed?.(event);
        } catch {
          // Counting must not fail the request either.
        }
      }
    }
  }
}
