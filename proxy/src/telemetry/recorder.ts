/**
 * Updates the request metrics from pipeline hooks and at request end. Label children are cached per label
 * values (all bounded: snapshot names, status classes, fixed outcome sets), so a request costs a few Map
 * lookups and increments.
 */
import type { PoolMember, Runtime } from '../config/runtime.js';
import type { RequestState } from '../env.js';
import type { AttemptOutcome, PipelineHooks, ProxyCall } from '../pipeline/types.js';
import type { Usage } from '../protocols/canonical/usage.js';
import { LabelPolicy, OTHER, statusClass } from './labels.js';
import type { ProxyMetrics } from './metrics.js';
import { gatewayOverheadMs, type RequestTracks } from './request-track.js';

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

type RecordedHooks =
  | 'onAttemptStart'
  | 'onAttemptEnd'
  | 'onFirstByte'
  | 'onFallback'
  | 'onRetry'
  | 'onRetryBudgetExhausted'
  | 'onEjection'
  | 'onQueueWait'
  | 'onHealthChange';

export interface MetricsRecorder {
  hooks: Required<Pick<PipelineHooks, RecordedHooks>>;
  onRequestEnd(state: RequestState): void;
}

/** Hooks that feed `m`; `tracks` must be begun at pipeline entry for the overhead histogram. */
export function createMetricsRecorder(
  m: ProxyMetrics,
  tracks: RequestTracks,
  current: () => Runtime | undefined,
): MetricsRecorder {
  const labels = new LabelPolicy(current);
  const { requests, ttft, itl, attempts, tokens, retries } = m;
  const durations = m.requestDuration;
  const overhead = m.overhead;
  const costs = m.cost;

  const modelPoolBackend = (call: ProxyCall, member: PoolMember): [string, string, string] => [
    labels.model(call.state.model),
    call.state.pool ?? '',
    member.endpoint.backend.id,
  ];

  /** Inter-token latency of a completed stream, from its output tokens and the time after the first byte. */
  const recordItl = (call: ProxyCall, member: PoolMember, usage: Usage, durationMs: number) => {
    const track = tracks.peek(call.state);
    if (!call.stream || track?.ttfbMs === undefined || usage.outputTokens <= 1) return;
    const perToken = (durationMs - track.ttfbMs) / (usage.outputTokens - 1);
    if (perToken >= 0) itl.child(...modelPoolBackend(call, member)).observe(perToken / 1000);
  };

  return {
    hooks: {
      onAttemptStart(call) {
        const track = tracks.of(call.state);
        const now = performance.now();
        track.attemptStartedAt = now;
        track.ttfbMs = undefined;
        if (track.firstAttemptAt < 0) track.firstAttemptAt = now;
      },
      onFirstByte(call, member, ttfbMs) {
        const track = tracks.of(call.state);
        track.ttfbMs = ttfbMs;
        if (call.stream) ttft.child(...modelPoolBackend(call, member)).observe(ttfbMs / 1000);
      },
      onAttemptEnd(call, member, outcome, durationMs) {
        const track = tracks.of(call.state);
        track.upstreamMs += durationMs;
        track.lastAttemptEndAt = performance.now();
        attempts.child(call.state.pool ?? '', member.endpoint.backend.id, attemptOutcomeLabel(outcome)).inc();
        if (outcome.kind === 'done' && outcome.usage && !outcome.incomplete)
          recordItl(call, member, outcome.usage, durationMs);
      },
      onFallback(_call, from, to) {
        m.fallbacks.child(from, to).inc();
      },
      onRetry(call, cause) {
        retries.child(call.state.pool ?? '', cause).inc();
      },
      onRetryBudgetExhausted(_call, pool) {
        m.retryBudgetExhausted.child(pool).inc();
      },
      onEjection(endpoint, pool) {
        m.ejections.child(pool, endpoint.backend.id, endpoint.id).inc();
      },
      onQueueWait(_call, pool, outcome, waitedMs) {
        m.queueWait.child(pool, outcome).observe(waitedMs / 1000);
      },
      onHealthChange(endpoint, _from, to) {
        m.healthTransitions.child(endpoint.backend.id, endpoint.id, to).inc();
      },
    },
    onRequestEnd(state) {
      const model = labels.model(state.model);
      const pool = state.pool ?? '';
      const cls = statusClass(state.status);
      requests.child(state.surface, model, pool, state.backend ?? '', cls).inc();
      durations.child(state.surface, model, pool, cls).observe((Date.now() - state.startedAt) / 1000);
      const track = tracks.peek(state);
      const over = track ? gatewayOverheadMs(track, performance.now()) : undefined;
      if (over !== undefined) overhead.child(state.surface).observe(over / 1000);
      // Tokens and cost as the usage stage settled them: the upstream's counts, or the estimate of a stream that ended
      // early (so an aborted stream is counted too).
      if (state.inputTokens !== undefined || state.outputTokens !== undefined) {
        const backend = state.backend ?? '';
        const tenant = labels.tenant(state.tenant);
        tokens.child(model, pool, backend, tenant, 'input').inc(state.inputTokens ?? 0);
        tokens.child(model, pool, backend, tenant, 'output').inc(state.outputTokens ?? 0);
        if (state.cost !== undefined && state.costCurrency !== undefined)
          costs.child(model, pool, backend, tenant, state.costCurrency).inc(state.cost);
      }
      if (state.limit !== undefined)
        m.rateLimit.child(LIMIT_DECISIONS.has(state.limit) ? state.limit : OTHER, labels.tenant(state.tenant)).inc();
    },
  };
}
