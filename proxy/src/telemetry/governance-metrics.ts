/**
 * Governance observers (auth, rate limits, cache, Redis, exact leases, guardrails) feeding the metrics. Every label
 * value comes from a fixed set, or, for guardrails and leases, from the snapshot's guardrail and backend ids:
 * anything else is counted as `other`.
 */
import type { CallObserver } from '../call/observers.js';
import { COUNTER_METRICS } from '../limits/types.js';
import { OTHER } from './labels.js';
import type { ProxyMetrics } from './metrics.js';

const AUTH = new Set(['authenticated', 'anonymous', 'missing_key', 'invalid_key', 'forbidden']);
const SCOPES = new Set(['key', 'tenant', 'model', 'global']);
const LIMITS = new Set<string>(COUNTER_METRICS);
const SOURCES = new Set(['redis', 'local']);
const CACHE = new Set(['hit', 'miss', 'bypass', 'stored']);
const OPERATIONS = new Set(['admit', 'settle']);
const MODES = new Set(['open', 'closed', 'none']);

const PHASES = new Set(['request', 'response']);
const ACTIONS = new Set(['allow', 'mask', 'deny']);
const CAUSES = new Set(['timeout', 'unavailable', 'saturated', 'bad_response']);

const bounded = (allowed: Set<string>, value: string) => (allowed.has(value) ? value : OTHER);

/** The observer of governance decisions that updates `m`. */
export function governanceMetrics(m: ProxyMetrics): CallObserver {
  return {
    onAuth(_call, outcome) {
      m.auth.child(bounded(AUTH, outcome)).inc();
    },
    onRateLimit(_call, decision) {
      if (decision.allowed || !decision.denied) return;
      m.rateLimitDenials
        .child(
          bounded(SCOPES, decision.denied.scope),
          bounded(LIMITS, decision.denied.metric),
          bounded(SOURCES, decision.source),
        )
        .inc();
    },
    onCache(_call, result) {
      m.cache.child(bounded(CACHE, result)).inc();
    },
    onGuardrail(_call, d) {
      const phase = bounded(PHASES, d.phase);
      m.guardrailDecisions.child(d.guardrail, phase, bounded(ACTIONS, d.action)).inc();
      m.guardrailDuration.child(d.guardrail, phase).observe(d.durationMs / 1000);
      if (d.failed)
        m.guardrailErrors.child(d.guardrail, bounded(CAUSES, d.failed.cause), bounded(MODES, d.failed.mode)).inc();
    },
    onBudgetRebuild(result, counters) {
      m.budgetRebuilds.child(result === 'seeded' ? 'seeded' : 'failed').inc(counters);
    },
    onReplicaLease(backend, event) {
      // `backend` is the id of a replica's backend in the snapshot; kinds are the fixed LeaseEvent kinds.
      if (event.kind === 'granted' || event.kind === 'full') m.exactLeases.child(backend, event.kind).inc();
      else m.exactFallbacks.child(backend, event.kind).inc();
      if ('seconds' in event) m.exactLeaseDuration.child(event.kind).observe(event.seconds);
    },
    onRedisFailure(failure) {
      m.redisErrors.child(bounded(OPERATIONS, failure.operation), bounded(MODES, failure.mode)).inc();
    },
  };
}
