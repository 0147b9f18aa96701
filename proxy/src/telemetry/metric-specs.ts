/**
 * Every metric the proxy exports, as data: name, type, help, labels and buckets. The prom-client objects are
 * built from these specs (metrics.ts) and the reference table in docs/observability.md is generated from them,
 * so the documentation cannot drift from the code.
 */

import { GOVERNANCE_METRIC_SPECS } from './metric-specs-governance.js';

/** Seconds; from 1 ms to 10 minutes (LLM requests run from milliseconds to long generations). */
export const DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600,
] as const;
/** Seconds; time to first token, as vLLM buckets it, plus a low end for fast local models. */
export const TTFT_BUCKETS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160,
] as const;
/** Seconds per output token. */
export const ITL_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 10,
] as const;
/** Seconds spent in the gateway itself: from 50 µs to 1 s. */
export const OVERHEAD_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
] as const;

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricSpec<L extends string = string> {
  name: string;
  type: MetricType;
  help: string;
  labelNames: readonly L[];
  buckets?: readonly number[];
}

const spec = <L extends string>(s: MetricSpec<L>): MetricSpec<L> => s;

/** The proxy's own metrics (Node process metrics come from prom-client's collectDefaultMetrics). */
export const METRIC_SPECS = {
  requests: spec({
    name: 'switchyard_requests_total',
    type: 'counter',
    help: 'Client requests answered, by surface, model, pool, backend of the last attempt and status class.',
    labelNames: ['surface', 'model', 'pool', 'backend', 'status_class'],
  }),
  requestDuration: spec({
    name: 'switchyard_request_duration_seconds',
    type: 'histogram',
    help: 'Time from the request arriving to the response ending (streams included), by status class.',
    labelNames: ['surface', 'model', 'pool', 'status_class'],
    buckets: DURATION_BUCKETS,
  }),
  overhead: spec({
    name: 'switchyard_gateway_overhead_seconds',
    type: 'histogram',
    help: 'Time spent in Switchyard itself for requests that reached an upstream: before the first attempt and after the last one (auth, limits, routing, response), excluding upstream time, retry back-off and waits in a pool queue for a free slot.',
    labelNames: ['surface'],
    buckets: OVERHEAD_BUCKETS,
  }),
  inFlight: spec({
    name: 'switchyard_in_flight_requests',
    type: 'gauge',
    help: 'Client requests inside the pipeline now.',
    labelNames: [],
  }),
  ttft: spec({
    name: 'switchyard_upstream_time_to_first_token_seconds',
    type: 'histogram',
    help: 'Streamed attempts: time from sending the upstream request to its first streamed byte.',
    labelNames: ['model', 'pool', 'backend'],
    buckets: TTFT_BUCKETS,
  }),
  itl: spec({
    name: 'switchyard_upstream_inter_token_latency_seconds',
    type: 'histogram',
    help: 'Streamed answers: mean time per output token after the first (first to last upstream byte / (output tokens - 1)), one observation per answer.',
    labelNames: ['model', 'pool', 'backend'],
    buckets: ITL_BUCKETS,
  }),
  attempts: spec({
    name: 'switchyard_upstream_attempts_total',
    type: 'counter',
    help: 'Upstream attempts by outcome: success, stream_error (failed after bytes reached the client), fatal (not retryable), connect_failure, timeout, rate_limited (429), server_error (5xx), client_gone (the client left or stopped reading: not a replica failure).',
    labelNames: ['pool', 'backend', 'outcome'],
  }),
  retries: spec({
    name: 'switchyard_retries_total',
    type: 'counter',
    help: 'Attempts after the first of a request (same pool, lower tier or fallback pool), by the pool retried in and the failure that caused the retry (connect-failure, timeout, 429, 5xx).',
    labelNames: ['pool', 'cause'],
  }),
  fallbacks: spec({
    name: 'switchyard_fallbacks_total',
    type: 'counter',
    help: 'Requests moved along the RoutePolicy fallback chain, from one pool to the next.',
    labelNames: ['from_pool', 'to_pool'],
  }),
  retryBudgetExhausted: spec({
    name: 'switchyard_retry_budget_exhausted_total',
    type: 'counter',
    help: 'Retries refused by the pool retry budget (the request ended with its last error).',
    labelNames: ['pool'],
  }),
  queueWait: spec({
    name: 'switchyard_pool_queue_wait_seconds',
    type: 'histogram',
    help: "Time requests waited for a free slot of the pool (every endpoint at its max concurrency, requests of their class or a higher one ahead, or the critical reserve), by priority class, tenant ('' without one) and outcome (woken, timeout, full, shed: displaced by a higher-ranked request, aborted).",
    labelNames: ['pool', 'class', 'tenant', 'outcome'],
    buckets: DURATION_BUCKETS,
  }),
  queued: spec({
    name: 'switchyard_pool_queued_requests',
    type: 'gauge',
    help: "Requests waiting now in this proxy for a free slot of the pool, by priority class and tenant (every pool reports 0 for each class with tenant '' when nothing waits).",
    labelNames: ['pool', 'class', 'tenant'],
  }),
  admitted: spec({
    name: 'switchyard_pool_admitted_total',
    type: 'counter',
    help: 'Requests that got a slot of the pool (after queueing or not), by priority class and tenant: the throughput each class and tenant gets.',
    labelNames: ['pool', 'class', 'tenant'],
  }),
  shed: spec({
    name: 'switchyard_requests_shed_total',
    type: 'counter',
    help: 'Requests refused by overload at a pool before reaching a replica, by priority class, tenant and reason (saturated: replicas report full queues or KV caches; no_slot: no slot and the class does not wait; queue_full; displaced: pushed out of a full queue; timeout: waited the class timeout).',
    labelNames: ['pool', 'class', 'tenant', 'reason'],
  }),
  ejections: spec({
    name: 'switchyard_endpoint_ejections_total',
    type: 'counter',
    help: 'Endpoints ejected by passive outlier detection, by the pool whose policy ejected them.',
    labelNames: ['pool', 'backend', 'endpoint'],
  }),
  healthTransitions: spec({
    name: 'switchyard_endpoint_health_transitions_total',
    type: 'counter',
    help: 'Changes of active health-check state, by the state entered (healthy, unhealthy).',
    labelNames: ['backend', 'endpoint', 'state'],
  }),
  tokens: spec({
    name: 'switchyard_tokens_total',
    type: 'counter',
    help: 'Tokens reported by upstreams, by type (input includes cached input, output).',
    labelNames: ['model', 'pool', 'backend', 'tenant', 'type'],
  }),
  cost: spec({
    name: 'switchyard_estimated_cost_total',
    type: 'counter',
    help: 'Estimated cost from the backend pricing (LLMBackend spec.pricing), in its currency.',
    labelNames: ['model', 'pool', 'backend', 'tenant', 'currency'],
  }),
  ...GOVERNANCE_METRIC_SPECS,
  endpointUp: spec({
    name: 'switchyard_endpoint_up',
    type: 'gauge',
    help: '1 when the endpoint may get traffic (not unhealthy by active checks, not ejected), else 0.',
    labelNames: ['backend', 'endpoint'],
  }),
  endpointHealth: spec({
    name: 'switchyard_endpoint_health',
    type: 'gauge',
    help: 'Active health-check state of the endpoint: 1 for the current state (healthy, unhealthy, unknown), 0 for the others.',
    labelNames: ['backend', 'endpoint', 'state'],
  }),
  endpointInFlight: spec({
    name: 'switchyard_endpoint_in_flight_requests',
    type: 'gauge',
    help: 'Upstream requests in flight to the endpoint from this proxy.',
    labelNames: ['backend', 'endpoint'],
  }),
  endpointLatency: spec({
    name: 'switchyard_endpoint_latency_ewma_seconds',
    type: 'gauge',
    help: 'Peak-EWMA of upstream attempt duration for the endpoint, as the latency-aware scheduler sees it (0 until measured).',
    labelNames: ['backend', 'endpoint'],
  }),
  poolEndpoints: spec({
    name: 'switchyard_pool_endpoints',
    type: 'gauge',
    help: 'Endpoints of the pool (all priority tiers) by state: up (may get traffic) or down (unhealthy or ejected).',
    labelNames: ['pool', 'state'],
  }),
  configInfo: spec({
    name: 'switchyard_config_info',
    type: 'gauge',
    help: 'Always 1, labelled with the version (content hash) of the snapshot being served; absent before the first snapshot.',
    labelNames: ['version'],
  }),
  configApplied: spec({
    name: 'switchyard_config_last_apply_timestamp_seconds',
    type: 'gauge',
    help: 'Unix time at which the snapshot being served was applied; 0 before the first snapshot.',
    labelNames: [],
  }),
  observerFailures: spec({
    name: 'switchyard_observer_failures_total',
    type: 'counter',
    help: 'Exceptions thrown by observers of the request path (metrics, traces, logs, ledger), by event; each is contained and logged, and the request goes on.',
    labelNames: ['event'],
  }),
  configApplies: spec({
    name: 'switchyard_config_applies_total',
    type: 'counter',
    help: 'Snapshots applied (swapped to a new version) since the proxy started.',
    labelNames: [],
  }),
} as const;

/** Prefixes of the Node process metrics added by prom-client's collectDefaultMetrics. */
export const DEFAULT_METRIC_PREFIXES = ['process_', 'nodejs_'] as const;
