/**
 * Passive outlier detection: consecutive connect failures, timeouts and retryable 5xx eject an endpoint for a
 * time that doubles with each ejection (up to the maximum) and shrinks again while it behaves; never more than
 * maxEjectionPercent of a pool's endpoints are out at once. An ejected endpoint that an active health checker
 * watches returns only after the time passed and a check succeeded (see health/). A stream the upstream broke after
 * it began counts as a failure too (it cannot be retried, but the next request should not meet the same replica).
 * 429 is not a failure: it blocks the endpoint until its Retry-After instead; a Retry-After on a 503/529 blocks the
 * endpoint as well, on top of counting the failure.
 */

import type { AttemptOutcome } from '../call/outcome.js';
import type { PoolRuntime } from '../config/runtime.js';
import type { EndpointState } from '../endpoints/state.js';

/** Block time after a 429 without Retry-After. */
export const DEFAULT_RETRY_AFTER_MS = 1000;
/** Longest an upstream Retry-After blocks an endpoint (a wrong header must not take it out for hours). */
export const MAX_RATE_LIMIT_MS = 60_000;

/** No new requests to `e` for `ms` (capped): an upstream Retry-After, on a 429 or on a 503/529. */
function block(e: EndpointState, ms: number, now: number): void {
  e.limitedUntil = Math.max(e.limitedUntil, now + Math.min(ms, MAX_RATE_LIMIT_MS));
  e.notify();
}

/** A stream the upstream broke after it began (cut, or a 5xx-class error event): a failure, though not retried. */
function failedMidStream(outcome: Extract<AttemptOutcome, { kind: 'done' }>): boolean {
  return outcome.streamError !== undefined && outcome.streamError.status >= 500;
}

/** Whether the endpoint is out because of an ejection at `now`. */
export function isEjected(e: EndpointState, now: number): boolean {
  return e.ejectedUntil > now || e.awaitingHealthCheck;
}

/** Distinct endpoints of the pool and how many of them are ejected. */
function ejectedShare(pool: PoolRuntime, now: number): { total: number; ejected: number } {
  const seen = new Set<EndpointState>();
  let ejected = 0;
  for (const tier of pool.tiers)
    for (const m of tier.members) {
      if (seen.has(m.endpoint)) continue;
      seen.add(m.endpoint);
      if (isEjected(m.endpoint, now)) ejected++;
    }
  return { total: seen.size, ejected };
}

/**
 * Updates the endpoint after an attempt's outcome. Returns the ejection time when this outcome ejected the
 * endpoint (for the onEjection observer event), else undefined.
 */
export function recordOutcome(
  e: EndpointState,
  pool: PoolRuntime,
  outcome: AttemptOutcome,
  now: number,
): number | undefined {
  if (outcome.kind === 'fatal' || (outcome.kind === 'done' && !failedMidStream(outcome))) {
    e.consecutiveFailures = 0;
    return undefined;
  }
  if (outcome.kind === 'retry' && outcome.retryAfterMs !== undefined) block(e, outcome.retryAfterMs, now);
  if (outcome.kind === 'retry' && outcome.cause === '429') {
    if (outcome.retryAfterMs === undefined) block(e, DEFAULT_RETRY_AFTER_MS, now);
    return undefined;
  }
  e.consecutiveFailures++;
  const od = pool.config.outlierDetection;
  if (e.consecutiveFailures < od.consecutiveFailures || isEjected(e, now)) return undefined;
  const { total, ejected } = ejectedShare(pool, now);
  if (ejected + 1 > Math.floor((total * od.maxEjectionPercent) / 100)) return undefined;
  // Each base ejection time spent back in service forgives one earlier ejection.
  if (e.ejectedUntil > 0 && od.baseEjectionMs > 0)
    e.ejections = Math.max(0, e.ejections - Math.floor((now - e.ejectedUntil) / od.baseEjectionMs));
  const duration = Math.min(od.maxEjectionMs, od.baseEjectionMs * 2 ** e.ejections);
  e.ejectedUntil = now + duration;
  e.awaitingHealthCheck = e.activelyChecked;
  e.ejections++;
  e.consecutiveFailures = 0;
  e.notify();
  return duration;
}
