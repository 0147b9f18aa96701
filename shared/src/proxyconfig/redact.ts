/** A view of a snapshot that is safe to show (GET /config, logs, status): credentials removed. */
import type { ProxyConfig } from './schema.js';

/** Summary of a snapshot without any secret: versions, models, endpoint counts. */
export function summarizeConfig(config: ProxyConfig) {
  return {
    schemaVersion: config.schemaVersion,
    version: config.version,
    generatedAt: config.generatedAt,
    backends: config.backends.map((b) => ({
      id: b.id,
      provider: b.provider,
      endpoints: b.endpoints.map((e) => ({ id: e.id, weight: e.weight })),
      models: Object.keys(b.models),
      hasCredentials: b.apiKey !== undefined,
    })),
    pools: config.pools.map((p) => ({
      id: p.id,
      model: p.model,
      aliases: p.aliases,
      strategy: p.scheduling.strategy,
      targets: p.targets.map((t) => ({ backend: t.backend, weight: t.weight, priority: t.priority })),
    })),
    routes: config.routes.map((r) => ({ id: r.id, name: r.name, splits: r.splits, fallbacks: r.fallbacks })),
    policies: config.policies.map((p) => ({
      id: p.id,
      authRequired: p.authRequired,
      tenants: p.tenants.map((t) => ({ name: t.name, keys: t.keyHashes.length })),
      cache: p.cache?.enabled ?? false,
      guardrails: (p.guardrails ?? []).map((g) => ({
        id: g.id,
        kind: g.local ? 'local' : 'external',
        phases: g.phases,
        ...(g.external ? { hasCredentials: g.external.token !== undefined } : {}),
      })),
    })),
  };
}
