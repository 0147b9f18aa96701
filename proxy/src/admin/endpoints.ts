/** Circuit state of every endpoint per pool (health, ejection, in-flight), for GET /config/endpoints. */
import type { Runtime } from '../config/runtime.js';
import { serverLoadView } from '../endpoint-metrics/index.js';

export function endpointStatus(rt: Runtime, now: number) {
  return [...rt.pools.values()].map((p) => ({
    pool: p.config.id,
    model: p.config.model,
    strategy: p.config.scheduling.strategy,
    tiers: p.tiers.map((t) => ({
      priority: t.priority,
      endpoints: t.members.map((m) => ({
        id: m.endpoint.id,
        backend: m.endpoint.backend.id,
        weight: m.weight,
        health: m.endpoint.health,
        lastCheckAt: m.endpoint.lastCheckAt > 0 ? new Date(m.endpoint.lastCheckAt).toISOString() : null,
        lastCheckError: m.endpoint.lastCheckError ?? null,
        loading: m.endpoint.loading,
        ejected: m.endpoint.ejectedUntil > now || m.endpoint.awaitingHealthCheck,
        awaitingHealthCheck: m.endpoint.awaitingHealthCheck,
        consecutiveFailures: m.endpoint.consecutiveFailures,
        ejectedForMs: Math.max(0, m.endpoint.ejectedUntil - now),
        ejections: m.endpoint.ejections,
        rateLimitedForMs: Math.max(0, m.endpoint.limitedUntil - now),
        inflight: m.endpoint.inflight,
        maxConcurrency: Number.isFinite(m.endpoint.maxConcurrency) ? m.endpoint.maxConcurrency : null,
        fleetMaxConcurrency: m.endpoint.backend.maxConcurrency ?? null,
        ewmaLatencyMs: Math.round(m.endpoint.ewmaMs),
        available: m.endpoint.available(now),
        serverLoad: serverLoadView(m.endpoint, now),
      })),
    })),
  }));
}
