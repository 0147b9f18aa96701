/**
 * Pure translation of custom resources into a ProxyConfig snapshot, used by the operator and by the proxy's
 * standalone mode alike. Never throws on bad references: each becomes a Problem naming resource and field, and
 * the rest of the configuration is still translated. Must not import the operator, the proxy or Kubernetes clients.
 */

import { z } from 'zod';
import type { LLMBackend, LLMPool, RoutePolicy, Secret } from '../api/v1alpha1/index.js';
import {
  type BackendConfig,
  backendConfig,
  type ProxyConfig,
  policyConfig,
  poolConfig,
  proxyConfig,
  routeConfig,
  SCHEMA_VERSION,
  snapshotVersion,
} from '../proxyconfig/index.js';
import { idOf, namespaceOf, type ServiceResolver, translateBackend } from './backends.js';
import { isolate } from './isolate.js';
import { type KeyClaim, type KeyOwners, translatePolicy } from './policies.js';
import { translatePool } from './pools.js';
import type { Problem } from './problems.js';

export type { ResolvedEndpoint, ServiceResolver } from './backends.js';
export { endpointId, idOf, namespaceOf } from './backends.js';
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
  /** Ids (`namespace/name`) of backends that exist but were refused before translation (schema), not missing. */
  refusedBackends?: ReadonlySet<string>;
  /** Time stamped into the snapshot (not part of its version). */
  now?: Date;
}

export interface TranslateResult {
  config: ProxyConfig;
  problems: Problem[];
}

const byId = <T extends { metadata: { name: string; namespace?: string | undefined } }>(a: T, b: T) =>
  idOf(a) < idOf(b) ? -1 : idOf(a) > idOf(b) ? 1 : 0;

/**
 * Oldest first (creationTimestamp, then namespace/name), as Gateway API settles conflicts: the resource that was
 * there first keeps what it has. Resources without a timestamp (standalone manifests) sort by namespace/name.
 */
const byAge = <T extends { metadata: { name: string; namespace?: string | undefined; creationTimestamp?: string } }>(
  a: T,
  b: T,
) => {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  return ta < tb ? -1 : ta > tb ? 1 : byId(a, b);
};

const policyOutput = z.object({ routes: z.array(routeConfig), policy: policyConfig });

/**
 * Translates resources into a complete, validated snapshot plus the problems found. Deterministic. Never throws
 * because of one resource: whatever cannot be translated is left out with a problem naming it.
 */
export function translate(input: TranslateInput): TranslateResult {
  const problems: Problem[] = [];
  const subject = (kind: Problem['kind'], r: { metadata: { name: string; namespace?: string | undefined } }) => ({
    kind,
    namespace: namespaceOf(r),
    name: r.metadata.name,
  });
  const backends = new Map<string, BackendConfig | undefined>();
  for (const b of [...input.backends].sort(byId)) {
    backends.set(
      idOf(b),
      isolate(subject('LLMBackend', b), backendConfig, problems, () =>
        translateBackend(b, input.secrets, input.resolveService, problems),
      ),
    );
  }

  // Model names go to the oldest pool claiming them; a newer pool claiming a taken name is not served at all.
  const modelOwner = new Map<string, string>();
  const accepted = new Set<string>();
  for (const p of [...input.pools].sort(byAge)) {
    const id = idOf(p);
    const names = [p.spec.model, ...(p.spec.aliases ?? [])];
    const conflict = names.findIndex((name) => modelOwner.has(name));
    if (conflict >= 0) {
      const name = names[conflict] as string;
      problems.push({
        ...subject('LLMPool', p),
        field: conflict === 0 ? 'spec.model' : `spec.aliases[${conflict - 1}]`,
        reason: 'ModelConflict',
        message: `model name "${name}" is already served by LLMPool ${modelOwner.get(name)} (the oldest pool claiming a name keeps it)`,
        condition: 'Accepted',
      });
      continue;
    }
    for (const name of names) modelOwner.set(name, id);
    accepted.add(id);
  }
  const lookup = (bid: string) => {
    if (!backends.has(bid)) return input.refusedBackends?.has(bid) ? ('unresolved' as const) : ('missing' as const);
    return backends.get(bid) ?? ('unresolved' as const);
  };
  const pools = [...input.pools]
    .sort(byId)
    .filter((p) => accepted.has(idOf(p)))
    .flatMap(
      (p) => isolate(subject('LLMPool', p), poolConfig, problems, () => translatePool(p, lookup, problems)) ?? [],
    );

  const named = pools.map((p) => ({ id: p.id, names: [p.model, ...p.aliases] }));
  // Oldest first, so an API key two policies list stays with the older one; served in namespace/name order.
  const keyOwners: KeyOwners = new Map();
  const translated: { id: string; routes: ProxyConfig['routes']; policy: ProxyConfig['policies'][number] }[] = [];
  for (const rp of [...input.policies].sort(byAge)) {
    let claims: KeyClaim[] = [];
    const t = isolate(subject('RoutePolicy', rp), policyOutput, problems, () => {
      const out = translatePolicy(rp, named, input.secrets, keyOwners, problems);
      claims = out.claims;
      return { routes: out.routes, policy: out.policy };
    });
    if (!t) continue;
    for (const c of claims) keyOwners.set(c.hash, c.owner);
    translated.push({ id: idOf(rp), ...t });
  }
  translated.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const routes = translated.flatMap((t) => t.routes);
  const policies = translated.map((t) => t.policy);

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
