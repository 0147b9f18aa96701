/** Passive health: what an attempt's outcome teaches about its endpoint (latency, Retry-After, failures). */
import type { EndpointState } from '../config/endpoint-state.js';
import type { PoolRuntime } from '../config/runtime.js';
import type { AttemptOutcome } from './types.js';

const EWMA_DECAY_MS = 10_000;

/** Updates endpoint statistics after an attempt. */
export function recordOutcome(e: EndpointState, pool: PoolRuntime, outcome: AttemptOutcome, durationMs: number): void {
  const now = Date.now();
  if (outcome.kind === 'done' || outcome.kind === 'fatal') {
    e.consecutiveFailures = 0;
    // Peak EWMA: jump up to a slow sample at once, decay towards fast ones over time.
    const w = e.ewmaAt === 0 ? 0 : Math.exp(-(now - e.ewmaAt) / EWMA_DECAY_MS);
    e.ewmaMs = durationMs > e.ewmaMs ? durationMs : e.ewmaMs * w + durationMs * (1 - w);
    e.ewmaAt = now;
    return;
  }
  if (outcome.cause === '429') {
    const wait = Math.min(outcome.retryAfterMs ?? 1000, pool.config.retry.maxRetryAfterMs);
    e.limitedUntil = Math.max(e.limitedUntil, now + wait);
    return;
  }
  e.consecutiveFailures++;
  const od = pool.config.outlierDetection;
  if (e.consecutiveFailures >= od.consecutiveFailures) {
    const duration = Math.min(od.maxEjectionMs, od.baseEjectionMs * 2 ** e.ejections);
    e.ejectedUntil = now + duration;
    e.ejections++;
    e.consecutiveFailures = 0;
  }
}
