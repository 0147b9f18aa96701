/**
 * Updates the request metrics from the observer events of the request path and at request end. Label children are cached per label
 * values (all bounded: snapshot names, status classes, fixed outcome sets), so a request costs a few Map
 * lookups and increments.
 */

import { type Clock, systemClock } from '../../../shared/src/clock.js';
import type { AuthorizedCall } from '../call/call.js';
import type { CallObserver } from '../call/observers.js';
import type { AttemptOutcome } from '../call/outcome.js';
import { gatewayOverheadMs } from '../call/record.js';
import type { Runtime } from '../config/runtime.js';
import type { PoolMember } from '../endpoints/member.js';
import type { Usage } from '../protocols/canonical/usage.js';
import { LabelPolicy, OTHER, statusClass } from './labels.js';
import type { ProxyMetrics } from './metrics.js';

const RETRY_OUTCOME: Record<string, string> = {
  'connect-failure': 'connect_failure',
  timeout: 'timeout',
  '429': 'rate_limited',
  '5xx': 'server_error',
};
const LIMIT_DECISIONS = new Set(['allowed', 'limited', 'fail_open', 'fail_closed']);

/** The `outcome` label of an attempt. */
export function attemptOutcomeLabel(o: AttemptOutcome): string {
  if (o.kind === 'done') return o.clientCaused ? 'client_gone' : o.streamError ? 'stream_error' : 'success';
  if (o.kind === 'fatal') return 'fatal';
  return RETRY_OUTCOME[o.cause] ?? OTHER;
}

/** The priority class label of a call in the pipeline. */
const flowClass = (call: AuthorizedCall) => call.record.flow?.cls ?? 'standard';

/** The observer that feeds `m`; requests start on `clock`. */
export function metricsObserver(
  m: ProxyMetrics,
  current: () => Runtime | undefined,
  clock: Clock = systemClock,
): CallObserver {
  const labels = new LabelPolicy(current);
  const { requests, ttft, itl, attempts, tokens, retries } = m;
  const durations = m.requestDuration;
  const overhead = m.overhead;
  const costs = m.cost;
  const modelPoolBackend = (call: AuthorizedCall, member: PoolMember): [string, string, string] => [
    labels.model(call.model),
    call.record.upstream.pool ?? '',
    member.endpoint.backend.id,
  ];
  /** Inter-token latency of a completed stream, from its output tokens and the time after the first byte. */
  const recordItl = (call: AuthorizedCall, member: PoolMember, usage: Usage, durationMs: number) => {
    const ttfbMs = call.record.upstream.ttfbMs;
    if (!call.stream || ttfbMs === undefined || usage.outputTokens <= 1) return;
    const perToken = (durationMs - ttfbMs) / (usage.outputTokens - 1);
    if (perToken >= 0) itl.child(...modelPoolBackend(call, member)).observe(perToken / 1000);
  };
  return {
    onCallStart() {
      m.inFlight(1);
    },
    onCallEnd() {
      m.inFlight(-1);
    },
    onFirstByte(call, member, ttfbMs) {
      if (call.stream) ttft.child(...modelPoolBackend(call, member)).observe(ttfbMs / 1000);
    },
    onAttemptEnd(call, member, outcome, durationMs) {
      attempts.child(call.record.upstream.pool ?? '', member.endpoint.backend.id, attemptOutcomeLabel(outcome)).inc();
      if (outcome.kind === 'done' && outcome.usage && !outcome.incomplete)
        recordItl(call, member, outcome.usage, durationMs);
    },
    onFallback(_call, from, to) {
      m.fallbacks.child(from, to).inc();
    },
    onRetry(call, cause) {
      retries.child(call.record.upstream.pool ?? '', cause).inc();
    },
    onRetryBudgetExhausted(_call, pool) {
      m.retryBudgetExhausted.child(pool).inc();
    },
    onEjection(endpoint, pool) {
      m.ejections.child(pool, endpoint.backend.id, endpoint.id).inc();
    },
    onQueueWait(call, pool, outcome, waitedMs) {
      m.queueWait
        .child(pool, flowClass(call), labels.tenant(call.record.caller?.tenant), outcome)
        .observe(waitedMs / 1000);
    },
    onSlot(call, pool) {
      m.admitted.child(pool, flowClass(call), labels.tenant(call.record.caller?.tenant)).inc();
    },
    onShed(call, pool, reason) {
      m.shed.child(pool, flowClass(call), labels.tenant(call.record.caller?.tenant), reason).inc();
    },
    onHealthChange(endpoint, _from, to) {
      m.healthTransitions.child(endpoint.backend.id, endpoint.id, to).inc();
    },
    onRequestEnd(r) {
      const model = labels.model(r.model);
      const pool = r.pool ?? '';
      const cls = statusClass(r.status);
      requests.child(r.surface, model, pool, r.backend ?? '', cls).inc();
      durations.child(r.surface, model, pool, cls).observe((clock.now() - r.startedAt) / 1000);
      const over = gatewayOverheadMs(r, performance.now());
      if (over !== undefined) overhead.child(r.surface).observe(over / 1000);
      // Tokens and cost as the usage stage settled them: the upstream's counts, or the estimate of a stream that ended
      // early (so an aborted stream is counted too).
      if (r.inputTokens !== undefined || r.outputTokens !== undefined) {
        const backend = r.backend ?? '';
        const tenant = labels.tenant(r.tenant);
        tokens.child(model, pool, backend, tenant, 'input').inc(r.inputTokens ?? 0);
        tokens.child(model, pool, backend, tenant, 'output').inc(r.outputTokens ?? 0);
        if (r.cost !== undefined && r.currency !== undefined)
          costs.child(model, pool, backend, tenant, r.currency).inc(r.cost);
      }
      if (r.limit !== undefined)
        m.rateLimit.child(LIMIT_DECISIONS.has(r.limit) ? r.limit : OTHER, labels.tenant(r.tenant)).inc();
    },
  };
}
