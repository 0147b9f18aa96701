/**
 * The access log: one pino line per request with what the gateway did (route, endpoint, attempts, tokens,
 * durations, limit, cache and guardrail decisions). Never the prompt, the completion or a credential.
 */
import type { Logger } from 'pino';
import { type Clock, systemClock } from '../../../shared/src/clock.js';
import type { CallObserver } from '../call/observers.js';
import { type GuardrailMark, gatewayOverheadMs, type RequestSummary } from '../call/record.js';

/** Fields of an access-log line; absent facts are left out. */
export interface AccessLogRecord {
  requestId: string;
  surface: string;
  status: number | undefined;
  durationMs: number;
  attempts: number;
  model?: string;
  pool?: string;
  backend?: string;
  endpoint?: string;
  tenant?: string;
  fallback?: string;
  stream?: boolean;
  inputTokens?: number;
  outputTokens?: number;
  cachedInputTokens?: number;
  /** Tokens estimated, not reported by the upstream (a stream that ended early). */
  usageEstimated?: boolean;
  /** Estimated cost from the backend's pricing, in `costCurrency`. */
  cost?: number;
  costCurrency?: string;
  ttfbMs?: number;
  upstreamMs?: number;
  overheadMs?: number;
  cache?: string;
  limit?: string;
  errorCode?: string;
  /** Guardrails that masked, denied or failed: guardrail, phase, action (and the failure cause); never the text. */
  guardrails?: GuardrailMark[];
  /** The priority class the request had at its pool (docs/priority.md). */
  priority?: string;
  /** Time it waited for a free slot. */
  queuedMs?: number;
  /** Why overload refused it, when it did. */
  shed?: string;
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

/**
 * Builds the access-log record of a finished request: `endedAt` on the monotonic clock of its timings, `now` on
 * the clock of its start.
 */
export function accessLogRecord(s: RequestSummary, endedAt: number, now = Date.now()): AccessLogRecord {
  const r: AccessLogRecord = {
    requestId: s.id,
    surface: s.surface,
    status: s.status,
    durationMs: now - s.startedAt,
    attempts: s.attempts,
  };
  if (s.model !== undefined) r.model = s.model;
  if (s.pool !== undefined) r.pool = s.pool;
  if (s.backend !== undefined) r.backend = s.backend;
  if (s.endpoint !== undefined) r.endpoint = s.endpoint;
  if (s.tenant !== undefined) r.tenant = s.tenant;
  if (s.fallback !== undefined) r.fallback = s.fallback;
  if (s.stream !== undefined) r.stream = s.stream;
  if (s.inputTokens !== undefined) r.inputTokens = s.inputTokens;
  if (s.outputTokens !== undefined) r.outputTokens = s.outputTokens;
  if (s.cachedInputTokens !== undefined) r.cachedInputTokens = s.cachedInputTokens;
  if (s.usageEstimated) r.usageEstimated = true;
  if (s.cost !== undefined && s.currency !== undefined) {
    r.cost = s.cost;
    r.costCurrency = s.currency;
  }
  if (s.ttfbMs !== undefined) r.ttfbMs = round(s.ttfbMs);
  if (s.firstAttemptAt !== undefined) r.upstreamMs = round(s.upstreamMs);
  const overhead = gatewayOverheadMs(s, endedAt);
  if (overhead !== undefined) r.overheadMs = round(overhead);
  if (s.cache !== undefined) r.cache = s.cache;
  if (s.limit !== undefined) r.limit = s.limit;
  if (s.errorCode !== undefined) r.errorCode = s.errorCode;
  if (s.guardrails.length > 0) r.guardrails = [...s.guardrails];
  if (s.priority !== undefined) r.priority = s.priority;
  if (s.queuedMs) r.queuedMs = round(s.queuedMs);
  if (s.shed !== undefined) r.shed = s.shed;
  return r;
}

/** The observer writing access-log lines to `log` (level info; warn for 5xx answers); requests start on `clock`. */
export function accessLogObserver(log: Logger, clock: Clock = systemClock): CallObserver {
  // The record holds only the scalar fields above, never a credential: skip the parent's redaction pass (~10 µs).
  const access = log.child({ log: 'access' }, { redact: { paths: [] } });
  return {
    onRequestEnd(s) {
      const record = accessLogRecord(s, performance.now(), clock.now());
      if ((s.status ?? 0) >= 500) access.warn(record, 'request');
      else access.info(record, 'request');
    },
  };
}
