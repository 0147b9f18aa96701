/**
 * What one request did, recorded for its observers (metrics, access log, traces, ledger) and read back by the stages
 * around the one that wrote it. The record is divided by writer: each section is written by one part of the request
 * path, named on it, and read by the stages outside that part once it returned and by observers. Stages hand each
 * other their inputs through the call (call.ts), never through the record.
 */
import type { PriorityClass } from '../../../shared/src/api/v1alpha1/index.js';
import type { Usage } from '../protocols/canonical/usage.js';
import type { Operation, SurfaceName } from '../protocols/catalog.js';

/** A guardrail check that did not simply allow (masked, denied, or failed and decided by its failure mode). */
export interface GuardrailMark {
  guardrail: string;
  phase: 'request' | 'response';
  action: 'allow' | 'mask' | 'deny';
  failed?: string;
}

/** What the rate limiter decided: admitted, denied, admitted locally while Redis failed, or refused while it failed. */
export type LimitDecision = 'allowed' | 'limited' | 'fail_open' | 'fail_closed';

/** The attempts of a call at its upstreams. Times are `performance.now()` milliseconds. */
export interface UpstreamRecord {
  attempts: number;
  /** The pool serving the call (the last one tried when fallbacks were). */
  pool?: string | undefined;
  /** The fallback pool that took the call, if one did. */
  fallback?: string | undefined;
  backend?: string | undefined;
  endpoint?: string | undefined;
  /** Usage the upstream reported (validated; dropped when implausible, see `usageRejected`). */
  usage?: Usage | undefined;
  /** The answer's stream ended early (client abort, mid-stream failure): `usage`, if any, is partial. */
  usageIncomplete?: boolean;
  /** The upstream's usage was implausible (negative, fractional, absurdly large): it was dropped. */
  usageRejected?: boolean;
  /** Start of the first attempt; undefined while none started. */
  firstAttemptAt?: number | undefined;
  attemptStartedAt?: number | undefined;
  lastAttemptEndAt?: number | undefined;
  /** Sum of the attempts' durations. */
  upstreamMs: number;
  /** Time to first byte of the latest attempt that got one. */
  ttfbMs?: number | undefined;
  /** Client fields the latest attempt's upstream request left out (UpstreamRequest.dropped). */
  dropped?: readonly string[] | undefined;
}

/** Why a call was refused for overload (docs/priority.md): the `reason` of `switchyard_requests_shed_total`. */
export type ShedReason = 'saturated' | 'no_slot' | 'queue_full' | 'displaced' | 'timeout';

/** The call's place in flow control: its priority class, what decided it, its waits for a slot, a refusal. */
export interface FlowRecord {
  cls: PriorityClass;
  source: 'header' | 'rule' | 'tenant' | 'default';
  /** Time spent waiting in pool queues, ms. */
  queuedMs: number;
  /** Set when overload refused the call (at its last pool). */
  shed?: ShedReason | undefined;
}

/** Tokens and cost the call is charged with: the upstream's usage, or an estimate. */
export interface MeteredUsage {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens?: number | undefined;
  /** The counts were estimated (a stream ended without usage, or the upstream's was implausible). */
  estimated: boolean;
  /** Estimated cost from the backend's pricing, in `currency`. */
  cost?: number | undefined;
  currency?: string | undefined;
}

export interface CallRecord {
  readonly id: string;
  /** ms since epoch. */
  readonly startedAt: number;
  /** The app, refined by the surface handler. */
  surface: SurfaceName;
  /** The surface handler: what was asked. */
  request?: { operation: Operation; model: string; stream: boolean };
  /** The surface handler: entry into the call stages (`performance.now()`). */
  enteredAt?: number;
  /** The auth stage: the caller's tenant and the policy holding its key (never the key; `keyId` is a hash prefix). */
  caller?: { policy: string; tenant: string; keyId: string };
  /** The guardrail stages, in the order they ran. */
  guardrails: GuardrailMark[];
  /** The limits stage. */
  limit?: LimitDecision;
  /** The cache stage. */
  cache?: 'hit' | 'miss' | 'bypass';
  /** The pipeline, or the cache stage when a cached answer took the place of attempts. */
  upstream: UpstreamRecord;
  /** The pipeline: priority and queueing. */
  flow?: FlowRecord;
  /** The usage stage. */
  usage?: MeteredUsage;
  /**
   * The code of the error a streamed answer ended with after it began: the pipeline's (the upstream failed
   * mid-stream) or the response guardrails' (`guardrail_denied`).
   */
  streamError?: string;
  /** The app: the status answered and the error code of an error answer. */
  response: { status?: number; errorCode?: string };
}

/** A fresh record for a request that arrived at `startedAt` on `surface`. */
export function newCallRecord(id: string, startedAt: number, surface: SurfaceName): CallRecord {
  return { id, startedAt, surface, guardrails: [], upstream: { attempts: 0, upstreamMs: 0 }, response: {} };
}

/** A finished request, flattened for observers that write one line, row or metric per request. */
export interface RequestSummary {
  id: string;
  startedAt: number;
  surface: SurfaceName;
  model: string | undefined;
  stream: boolean | undefined;
  policy: string | undefined;
  tenant: string | undefined;
  keyId: string | undefined;
  pool: string | undefined;
  backend: string | undefined;
  endpoint: string | undefined;
  fallback: string | undefined;
  attempts: number;
  status: number | undefined;
  /** The error answered, else the error a stream ended with. */
  errorCode: string | undefined;
  inputTokens: number | undefined;
  outputTokens: number | undefined;
  cachedInputTokens: number | undefined;
  usageEstimated: boolean;
  cost: number | undefined;
  currency: string | undefined;
  cache: 'hit' | 'miss' | 'bypass' | undefined;
  limit: LimitDecision | undefined;
  guardrails: readonly GuardrailMark[];
  /** Timings (`performance.now()` ms) for the overhead and upstream time. */
  enteredAt: number | undefined;
  firstAttemptAt: number | undefined;
  lastAttemptEndAt: number | undefined;
  upstreamMs: number;
  ttfbMs: number | undefined;
  /** The call's priority class (once it reached the pipeline). */
  priority: PriorityClass | undefined;
  queuedMs: number | undefined;
  shed: ShedReason | undefined;
}

/** The summary of a finished request's record. */
export function summarize(r: CallRecord): RequestSummary {
  const { pool, backend, endpoint, fallback, attempts, firstAttemptAt, lastAttemptEndAt, upstreamMs, ttfbMs } =
    r.upstream;
  const { inputTokens, outputTokens, cachedInputTokens, estimated, cost, currency }: Partial<MeteredUsage> =
    r.usage ?? {};
  return {
    id: r.id,
    startedAt: r.startedAt,
    surface: r.surface,
    model: r.request?.model,
    stream: r.request?.stream,
    policy: r.caller?.policy,
    tenant: r.caller?.tenant,
    keyId: r.caller?.keyId,
    pool,
    backend,
    endpoint,
    fallback,
    attempts,
    status: r.response.status,
    errorCode: r.response.errorCode ?? r.streamError,
    inputTokens,
    outputTokens,
    cachedInputTokens,
    usageEstimated: estimated === true,
    cost,
    currency,
    cache: r.cache,
    limit: r.limit,
    guardrails: r.guardrails,
    enteredAt: r.enteredAt,
    firstAttemptAt,
    lastAttemptEndAt,
    upstreamMs,
    ttfbMs,
    priority: r.flow?.cls,
    queuedMs: r.flow?.queuedMs,
    shed: r.flow?.shed,
  };
}

/**
 * Time spent in the gateway: from entering the call stages to the first attempt, less the time waiting in a queue for
 * a free slot, plus from the end of the last attempt to `endedAt`. Undefined for requests that never reached an
 * upstream.
 */
export function gatewayOverheadMs(s: RequestSummary, endedAt: number): number | undefined {
  if (s.firstAttemptAt === undefined || s.enteredAt === undefined) return undefined;
  const before = s.firstAttemptAt - s.enteredAt - (s.queuedMs ?? 0);
  return Math.max(0, before) + Math.max(0, endedAt - (s.lastAttemptEndAt ?? endedAt));
}
