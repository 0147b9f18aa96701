/** Metrics of the governance stages (auth, rate limits, cache, Redis, guardrails, ledger); part of METRIC_SPECS. */
import type { MetricSpec } from './metric-specs.js';

/** Seconds; from 50 µs (a local detector) to 10 s (an external service or a batch write at its timeout). */
const CHECK_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
] as const;

/** Seconds; one Redis round-trip, from 100 µs to the default 1 s command timeout. */
const LEASE_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1] as const;

const spec = <L extends string>(s: MetricSpec<L>): MetricSpec<L> => s;

export const GOVERNANCE_METRIC_SPECS = {
  auth: spec({
    name: 'switchyard_auth_results_total',
    type: 'counter',
    help: 'API-key authentication results: authenticated, anonymous, missing_key, invalid_key, forbidden.',
    labelNames: ['outcome'],
  }),
  rateLimit: spec({
    name: 'switchyard_rate_limit_decisions_total',
    type: 'counter',
    help: 'Rate-limit decisions of requests a limit applied to: allowed, limited, fail_open (Redis down, local limits), fail_closed (Redis down, 503).',
    labelNames: ['decision', 'tenant'],
  }),
  rateLimitDenials: spec({
    name: 'switchyard_rate_limit_denials_total',
    type: 'counter',
    help: 'Requests denied by a rate limit, by the counter that denied them (scope key|tenant|model|global; limit requests|tokens|concurrent|tokensPerDay|tokensPerMonth|costPerDay|costPerMonth) and where it was kept (redis, local).',
    labelNames: ['scope', 'limit', 'source'],
  }),
  cache: spec({
    name: 'switchyard_cache_results_total',
    type: 'counter',
    help: 'Response-cache results of requests a cache policy applied to: hit, miss, bypass (not cacheable), stored.',
    labelNames: ['result'],
  }),
  redisErrors: spec({
    name: 'switchyard_redis_errors_total',
    type: 'counter',
    help: 'Failed Redis operations (admit, settle) by what the request got (open: local limits, closed: 503, none).',
    labelNames: ['operation', 'mode'],
  }),
  redisUp: spec({
    name: 'switchyard_redis_up',
    type: 'gauge',
    help: '1 while the Redis connection is up, 0 while down; absent when no Redis is configured.',
    labelNames: [],
  }),
  exactLeases: spec({
    name: 'switchyard_exact_leases_total',
    type: 'counter',
    help: 'Fleet-wide replica leases asked of Redis for backends in maxConcurrencyMode Exact, by backend and result (granted; full: every slot of the replica taken fleet-wide).',
    labelNames: ['backend', 'result'],
  }),
  exactFallbacks: spec({
    name: 'switchyard_exact_lease_fallbacks_total',
    type: 'counter',
    help: 'Exact mode falling back to this proxy’s share of maxConcurrency, by backend and reason: error (a lease request to Redis failed; leasing turns off for a 1 s cool-down, as after a failed renewal or release), down (an attempt sent within the share while the Redis connection is down), cooldown (an attempt sent within the share during the cool-down).',
    labelNames: ['backend', 'reason'],
  }),
  exactActive: spec({
    name: 'switchyard_exact_mode_active',
    type: 'gauge',
    help: '1 while the fleet-wide cap of a backend in maxConcurrencyMode Exact is kept by Redis leases, 0 while this proxy keeps its share instead (no Redis, Redis down, or the cool-down after a failed call); one series per Exact backend.',
    labelNames: ['backend'],
  }),
  exactLeaseDuration: spec({
    name: 'switchyard_exact_lease_duration_seconds',
    type: 'histogram',
    help: 'Round-trip of one lease request to Redis before an attempt is sent, by result (granted, full, error).',
    labelNames: ['result'],
    buckets: LEASE_BUCKETS,
  }),
  guardrailDecisions: spec({
    name: 'switchyard_guardrail_decisions_total',
    type: 'counter',
    help: 'Guardrail checks by guardrail (namespace/policy/name), phase (request, response) and action (allow, mask, deny), failed checks included as their failure mode decided them.',
    labelNames: ['guardrail', 'phase', 'action'],
  }),
  guardrailErrors: spec({
    name: 'switchyard_guardrail_errors_total',
    type: 'counter',
    help: 'Guardrail checks that failed (cause timeout, unavailable, saturated, bad_response) and were decided by the failure mode (open: allowed, closed: denied).',
    labelNames: ['guardrail', 'cause', 'mode'],
  }),
  guardrailDuration: spec({
    name: 'switchyard_guardrail_check_duration_seconds',
    type: 'histogram',
    help: 'Time one guardrail check took (external: the call, waiting for a slot included), by guardrail and phase.',
    labelNames: ['guardrail', 'phase'],
    buckets: CHECK_BUCKETS,
  }),
  budgetRebuilds: spec({
    name: 'switchyard_budget_rebuilds_total',
    type: 'counter',
    help: 'Budget counters Redis had lost, rebuilt from the usage ledger (seeded) or not, the ledger being unreachable or slow (failed).',
    labelNames: ['result'],
  }),
  ledgerWritten: spec({
    name: 'switchyard_ledger_entries_written_total',
    type: 'counter',
    help: 'Usage-ledger entries written to PostgreSQL.',
    labelNames: [],
  }),
  ledgerDropped: spec({
    name: 'switchyard_ledger_entries_dropped_total',
    type: 'counter',
    help: 'Usage-ledger entries lost: buffer_full (the database was down or slow and the buffer was full), rejected (the database refused the batch), shutdown (still buffered when the proxy stopped).',
    labelNames: ['reason'],
  }),
  ledgerBuffered: spec({
    name: 'switchyard_ledger_buffered_entries',
    type: 'gauge',
    help: 'Usage-ledger entries waiting to be written; absent without a ledger.',
    labelNames: [],
  }),
  ledgerUp: spec({
    name: 'switchyard_ledger_up',
    type: 'gauge',
    help: '1 while the last ledger write succeeded, 0 after one failed; absent without a ledger.',
    labelNames: [],
  }),
  ledgerWriteDuration: spec({
    name: 'switchyard_ledger_write_duration_seconds',
    type: 'histogram',
    help: 'Time one batch INSERT into the ledger took.',
    labelNames: [],
    buckets: CHECK_BUCKETS,
  }),
} as const;
