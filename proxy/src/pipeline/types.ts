/** Types shared by the request pipeline stages. */
import type { Logger } from 'pino';
import type { EndpointState, Health } from '../config/endpoint-state.js';
import type { PoolMember, PoolRuntime, Runtime } from '../config/runtime.js';
import type { RequestState } from '../env.js';
import type { GatewayError } from '../errors.js';
import type { ResponseSink } from '../http/sink.js';
import type { Usage } from '../protocols/canonical/usage.js';
import type { SurfaceName } from '../protocols/catalog.js';
import type { ClientRequest } from '../protocols/requests.js';
import type { UpstreamRequest } from '../protocols/types.js';
import type { RoutePlan } from '../routing/resolve.js';
import type { UpstreamPools } from '../upstream/pools.js';

/** Why a failed attempt failed, in RoutePolicy `retryOn` terms. */
export type FailureCause = 'connect-failure' | 'timeout' | '429' | '5xx';

export type AttemptOutcome =
  | {
      kind: 'done';
      /** What the upstream reported; for an `incomplete` stream only what it reported before the end (if anything). */
      usage?: Usage | undefined;
      streamError?: GatewayError;
      /** The stream ended early (client left, mid-stream failure): `usage` is partial at best. */
      incomplete?: boolean;
      /** The client ended it (left, or stopped reading): says nothing about the replica. */
      clientCaused?: boolean;
    }
  | {
      kind: 'retry';
      error: GatewayError;
      cause: FailureCause;
      retryAfterMs?: number | undefined;
      /** The upstream answered that it is still loading its model. */
      loading?: boolean;
    }
  | { kind: 'fatal'; error: GatewayError };

/** Observers of the pipeline (metrics, tracing). All optional; none may throw. */
export interface PipelineHooks {
  onAttemptStart?(call: ProxyCall, member: PoolMember, attempt: number): void;
  onAttemptEnd?(call: ProxyCall, member: PoolMember, outcome: AttemptOutcome, durationMs: number): void;
  onFirstByte?(call: ProxyCall, member: PoolMember, ttfbMs: number): void;
  onFallback?(call: ProxyCall, fromPool: string, toPool: string): void;
  /** Just before an attempt is sent; may add headers to `request` (trace context). Keep it cheap. */
  onUpstreamRequest?(call: ProxyCall, member: PoolMember, request: UpstreamRequest): void;
  /** A failed attempt (`cause`) is followed by another one: same pool, next tier or a fallback pool. */
  onRetry?(call: ProxyCall, cause: FailureCause): void;
  /** The pool's retry budget refused a retry: the call ends with its last error. */
  onRetryBudgetExhausted?(call: ProxyCall, pool: string): void;
  /** Passive outlier detection took `endpoint` out of traffic for `durationMs` (pool: where it failed). */
  onEjection?(endpoint: EndpointState, pool: string, durationMs: number): void;
  /** An active health check changed an endpoint's health (not per request). */
  onHealthChange?(endpoint: EndpointState, from: Health, to: Health): void;
  /**
   * The call waited for a free slot because every endpoint of `pool` was at its max concurrency: 'woken' (got
   * one), 'timeout', 'full' (queue full, refused at once) or 'aborted' (client left); `waitedMs` in total.
   */
  onQueueWait?(
    call: ProxyCall,
    pool: string,
    outcome: 'woken' | 'timeout' | 'full' | 'aborted',
    waitedMs: number,
  ): void;
}

export interface PipelineDeps {
  pools: UpstreamPools;
  log: Logger;
  hooks?: PipelineHooks;
  /** Largest non-streamed upstream answer read (bytes). */
  maxResponseBytes?: number;
  /** Largest upstream stream event or line (bytes); larger fails the attempt as an upstream protocol error. */
  maxEventBytes?: number;
}

/** One client request on its way through the pipeline. */
export interface ProxyCall {
  surface: SurfaceName;
  /** The client's validated request: its operation and typed body (the system-prompt stage replaces it). */
  request: ClientRequest;
  model: string;
  stream: boolean;
  clientWantsUsage: boolean;
  header(name: string): string | undefined;
  state: RequestState;
  sink: ResponseSink;
  runtime: Runtime;
  /** The resolved route (routing/stage.ts); fallbacks the caller may not reach are removed by authorisation. */
  plan?: RoutePlan<PoolRuntime>;
  /** Canonical prompt text, for prefix-aware scheduling. */
  prompt?: string;
}
