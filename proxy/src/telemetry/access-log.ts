/**
 * The access log: one pino line per request with what the gateway did (route, endpoint, attempts, tokens,
 * durations, limit, cache and guardrail decisions). Never the prompt, the completion or a credential.
 */
import type { Logger } from 'pino';
import type { RequestState } from '../env.js';
import { gatewayOverheadMs, type RequestTrack } from './request-track.js';

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
  guardrails?: RequestState['guardrails'];
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

/** Builds the access-log record of a finished request. */
export function accessLogRecord(
  state: RequestState,
  track: RequestTrack | undefined,
  endedAt: number,
): AccessLogRecord {
  const r: AccessLogRecord = {
    requestId: state.id,
    surface: state.surface,
    status: state.status,
    durationMs: Date.now() - state.startedAt,
    attempts: state.attempts,
  };
  if (state.model !== undefined) r.model = state.model;
  if (state.pool !== undefined) r.pool = state.pool;
  if (state.backend !== undefined) r.backend = state.backend;
  if (state.endpoint !== undefined) r.endpoint = state.endpoint;
  if (state.tenant !== undefined) r.tenant = state.tenant;
  if (state.fallback !== undefined) r.fallback = state.fallback;
  if (state.stream !== undefined) r.stream = state.stream;
  if (state.inputTokens !== undefined) r.inputTokens = state.inputTokens;
  if (state.outputTokens !== undefined) r.outputTokens = state.outputTokens;
  if (state.cachedInputTokens !== undefined) r.cachedInputTokens = state.cachedInputTokens;
  if (state.usageEstimated) r.usageEstimated = true;
  if (state.cost !== undefined && state.costCurrency !== undefined) {
    r.cost = state.cost;
    r.costCurrency = state.costCurrency;
  }
  if (track) {
    if (track.ttfbMs !== undefined) r.ttfbMs = round(track.ttfbMs);
    if (track.firstAttemptAt >= 0) r.upstreamMs = round(track.upstreamMs);
    const overhead = gatewayOverheadMs(track, endedAt);
    if (overhead !== undefined) r.overheadMs = round(overhead);
  }
  if (state.cache !== undefined) r.cache = state.cache;
  if (state.limit !== undefined) r.limit = state.limit;
  if (state.errorCode !== undefined) r.errorCode = state.errorCode;
  if (state.guardrails !== undefined) r.guardrails = state.guardrails;
  return r;
}

/** Writes access-log lines to `log` (level info; warn for 5xx answers). */
export function createAccessLog(log: Logger): (state: RequestState, track: RequestTrack | undefined) => void {
  // The record holds only the scalar fields above, never a credential: skip the parent's redaction pass (~10 µs).
  const access = log.child({ log: 'access' }, { redact: { paths: [] } });
  return (state, track) => {
    const record = accessLogRecord(state, track, performance.now());
    if ((state.status ?? 0) >= 500) access.warn(record, 'request');
    else access.info(record, 'request');
  };
}
