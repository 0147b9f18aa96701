/**
 * Peak-EWMA latency per endpoint (Finagle's estimator): a sample above the estimate replaces it at once, lower
 * ones pull it down with a time-based weight, and the estimate decays towards 0 while no samples arrive, so an
 * endpoint that was slow once is tried again later instead of being avoided forever.
 */
import type { EndpointState } from './state.js';

/** Decay time constant (ms). */
export const LATENCY_DECAY_MS = 10_000;

/** Largest estimate (ms): longer than any attempt may last, so a failing endpoint still ranks last. */
export const MAX_LATENCY_MS = 3_600_000;

/** Records a latency sample (time to first byte, or the whole answer when not streamed). */
export function recordLatency(e: EndpointState, sample: number, now: number): void {
  if (!Number.isFinite(sample)) return;
  const sampleMs = Math.min(Math.max(0, sample), MAX_LATENCY_MS);
  if (e.ewmaAt === 0) e.ewmaMs = sampleMs;
  else if (sampleMs > e.ewmaMs) e.ewmaMs = sampleMs;
  else {
    const w = Math.exp(-Math.max(0, now - e.ewmaAt) / LATENCY_DECAY_MS);
    e.ewmaMs = e.ewmaMs * w + sampleMs * (1 - w);
  }
  e.ewmaAt = now;
}

/** A failed attempt: its duration, but at least twice the estimate (up to the cap), so failing endpoints look slow. */
export function recordFailureLatency(e: EndpointState, durationMs: number, now: number): void {
  recordLatency(e, Math.max(durationMs, latencyEstimate(e, now) * 2), now);
}

/** The estimate at `now` in ms; 0 when never measured. */
export function latencyEstimate(e: EndpointState, now: number): number {
  if (e.ewmaAt === 0) return 0;
  const idle = now - e.ewmaAt;
  return idle <= 0 ? e.ewmaMs : e.ewmaMs * Math.exp(-idle / LATENCY_DECAY_MS);
}
