/**
 * How check results move an endpoint's health. An endpoint starts 'unknown' (and takes traffic); its first
 * result decides at once. After that `unhealthyThreshold` failures in a row make it unhealthy and
 * `healthyThreshold` successes in a row make it healthy again; a loading answer (llama.cpp 503) makes it
 * unhealthy (and `loading`) at once; any success ends `loading`. A success after an ejection's time has passed lets the ejected endpoint return.
 */
import type { EndpointState, Health } from '../endpoints/state.js';
import type { ProbeResult } from './probe.js';

/** Applies one check result at `now`; returns the previous health when it changed. */
export function applyCheckResult(e: EndpointState, result: ProbeResult, now: number): Health | undefined {
  const hc = e.backend.healthCheck;
  const from = e.health;
  e.lastCheckAt = now;
  if (result.ok) {
    e.checkSuccesses++;
    e.checkFailures = 0;
    e.lastCheckError = undefined;
    e.loading = false;
    e.loadingUntil = 0;
    if (from === 'unknown' || (from === 'unhealthy' && e.checkSuccesses >= hc.healthyThreshold)) e.health = 'healthy';
    if (e.awaitingHealthCheck && e.ejectedUntil <= now) e.awaitingHealthCheck = false;
  } else {
    e.checkFailures++;
    e.checkSuccesses = 0;
    e.lastCheckError = result.reason;
    e.loading = result.loading;
    if (from === 'unknown' || result.loading || (from === 'healthy' && e.checkFailures >= hc.unhealthyThreshold))
      e.health = 'unhealthy';
  }
  e.notify();
  return from === e.health ? undefined : from;
}

/** The endpoint is no longer checked: back to 'unknown' (usable), and an ejection ends by time alone. */
export function forgetChecks(e: EndpointState): void {
  e.activelyChecked = false;
  e.health = 'unknown';
  e.checkSuccesses = 0;
  e.checkFailures = 0;
  e.awaitingHealthCheck = false;
  e.notify();
}
