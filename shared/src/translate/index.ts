/**
 * Pure translation of custom resources into a ProxyConfig snapshot, used by the operator and by the proxy's
 * standalone mode alike. Never throws on bad references: each becomes a Problem naming resource and field, and
 * the rest of the configuration is still translated. Must not import the operator, the proxy or Kubernetes clients.
 */
import type { LLMBackend, LLMPool, RoutePolicy, Secret } from '../api/v1alpha1/index.js';
import { type ProxyConfig, proxyConfig, SCHEMA_VERSION, snapshotVersion } from '../proxyconfig/index.js';
import { idOf, namespaceOf, type ServiceResolver, translateBackend } from './backends.js';
import { translatePolicy } from './policies.js';
import { translatePool } from './pools.js';
import type { Problem } from './problems.js';

export type { ResolvedEndpoint, ServiceResolver } from './backends.js';
export { idOf, namespaceOf } from './backends.js';
export { hashApiKey } from './policies.js';
export { formatProblem, type Problem } from './problems.js';
export { endpointBaseUrl, PROVIDER_DEFAULTS } from './providers.js';

const UNVERSIONED = '0'.repeat(32);

export interface TranslateInput {
  backends: LLMBackend[];
  pools: LLMPool[];
  policies: RoutePolicy[];
  secrets: Secret[];
  /** Resolves serviceRef backends to ready replicas (operator only). */
  resolveService?: ServiceResolver;
  /** Time stamped into the snapshot (not part of its version). */
  now?: Date;
}

export interface TranslateResult {
  config: ProxyConfig;
  problems: Problem[];
}

const byId = <T extends { metadata: { name: string; namespace?: string | undefined } }>(a: T, b: T) =>
  idOf(a) < idOf(b) ? -1 : idOf(a) > idOf(b) ? 1 : 0;

/** Translates resources into a complete, validated snapshot plus the problems found. Deterministic. */
export function translate(input: TranslateInput): TranslateResult {
  const problems: Problem[] = [];
  const backendInputs = [...input.backends].sort(byId);
  const backends = new Map<string, ReturnType<typeof translateBackend>>();
  for (const b of backendInputs)
    backends.set(idOf(b), translateBackend(b, input.secrets, input.resolveService, problems));

  const modelOwner = new Map<string, string>();
  const pools = [...input.pools].sort(byId).flatMap((p) => {
    const id = idOf(p);
    for (const [i, name] of [p.spec.model, ...(p.spec.aliases ?? [])].entries()) {
      const owner = modelOwner.get(name);
      if (owner !== undefined && owner !== id) {
        problems.push({
          kind: 'LLMPool',
          namespace: namespaceOf(p),
          name: p.metadata.name,
          field: i === 0 ? 'spec.model' : `spec.aliases[${i - 1}]`,
          reason: 'ModelConflict',
          message: `model name "${name}" is already served by LLMPool ${owner}`,
          condition: 'Accepted',
        });
        return [];
      }
    }
    for (const name of [p.spec.model, ...(p.spec.aliases ?? [])]) modelOwner.set(name, id);
    return [
      translatePool(
        p,
        (bid) => {
          if (!backends.has(bid)) return 'missing';
          return backends.get(bid) ?? 'unresolved';
        },
        problems,
      ),
    ];
  });

  const poolIds = new Set(pools.map((p) => p.id));
  const routes: ProxyConfig['routes'] = [];
  const policies: ProxyConfig['policies'] = [];
  for (const rp of [...input.policies].sort(byId)) {
    const t = translatePolicy(rp, (id) => poolIds.has(id), input.secrets, problems);
    routes.push(...t.routes);
    policies.push(t.policy);
  }

  const body = {
    schemaVersion: SCHEMA_VERSION,
    backends: [...backends.values()].filter((b) => b !== undefined),
    pools,
    routes,
    policies,
  };
  // Versioned after parsing, so the hash covers the snapshot exactly as it is sent (defaults included).
  const parsed = proxyConfig.parse({
    ...body,
    version: UNVERSIONED,
    generatedAt: (input.now ?? new Date()).toISOString(),
  });
  const config: ProxyConfig = { ...parsed, version: snapshotVersion(parsed) };
  return { config, problems };
}
