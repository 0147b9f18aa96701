/**
 * RoutePolicy → RouteConfig[] + PolicyConfig: pool names resolved to ids, the pools the policy covers, API keys
 * hashed. One key value authenticates one tenant: policies are translated oldest first, and a key an older tenant
 * (of this or another policy) already holds is a conflict reported on the newer one, which does not get it.
 */
import { createHash } from 'node:crypto';
import { DEFAULT_PRIORITY_HEADER, parseDuration, type RoutePolicy, type Secret } from '../api/v1alpha1/index.js';
import type { GuardrailConfig, PolicyConfig, RouteConfig } from '../proxyconfig/index.js';
import { findSecretValue, idOf, namespaceOf } from './backends.js';
import { coveredPools, type NamedPool } from './coverage.js';
import type { Problem } from './problems.js';

/** SHA-256 hex of an API key: the only form in which keys appear in a snapshot. */
export const hashApiKey = (key: string) => createHash('sha256').update(key).digest('hex');

/** Who holds each API key (by hash): `RoutePolicy ns/name tenant "t"`. Shared by the policies of one translation. */
export type KeyOwners = Map<string, string>;

/** A key a translated policy wants: recorded in KeyOwners once the policy is known to be served. */
export interface KeyClaim {
  hash: string;
  owner: string;
}

/**
 * Translates one policy; pool references that do not exist are problems and are left out, and so are keys held by
 * a tenant in `owners` (older policies). The keys it holds itself come back as `claims`, for the caller to record
 * once the policy is accepted.
 */
export function translatePolicy(
  rp: RoutePolicy,
  pools: readonly NamedPool[],
  secrets: Secret[],
  owners: ReadonlyMap<string, string>,
  problems: Problem[],
): { routes: RouteConfig[]; policy: PolicyConfig; claims: KeyClaim[] } {
  const poolIds = new Set(pools.map((p) => p.id));
  const poolExists = (pid: string) => poolIds.has(pid);
  const ns = namespaceOf(rp);
  const id = idOf(rp);
  const push = (field: string, reason: string, message: string) =>
    problems.push({
      kind: 'RoutePolicy',
      namespace: ns,
      name: rp.metadata.name,
      field,
      reason,
      message,
      condition: 'ResolvedRefs',
    });

  const guardrails = translateGuardrails(rp, secrets, push);
  const guardrailIds = (names: readonly string[] | undefined, field: string) =>
    (names ?? []).flatMap((name, j) => {
      if (guardrails.some((g) => g.id === `${id}/${name}`)) return [`${id}/${name}`];
      push(`${field}[${j}]`, 'GuardrailNotFound', `guardrail "${name}" is not in spec.guardrails`);
      return [];
    });

  const routes = rp.spec.rules.map((rule, i): RouteConfig => {
    const splits = (rule.pools ?? []).filter((t, j) => {
      const ok = poolExists(`${ns}/${t.name}`);
      if (!ok) push(`spec.rules[${i}].pools[${j}].name`, 'PoolNotFound', `LLMPool ${ns}/${t.name} does not exist`);
      return ok;
    });
    const fallbacks = (rule.fallbacks ?? []).filter((name, j) => {
      const ok = poolExists(`${ns}/${name}`);
      if (!ok) push(`spec.rules[${i}].fallbacks[${j}]`, 'PoolNotFound', `LLMPool ${ns}/${name} does not exist`);
      return ok;
    });
    return {
      id: `${id}#${i}`,
      policy: id,
      name: rule.name ?? `${rp.metadata.name}-${i}`,
      match: {
        ...(rule.match?.model
          ? { model: { type: rule.match.model.type ?? 'Exact', value: rule.match.model.value } }
          : {}),
        headers: (rule.match?.headers ?? []).map((h) => ({
          name: h.name.toLowerCase(),
          type: h.type ?? 'Exact',
          value: h.value,
        })),
        ...(rule.match?.tenants ? { tenants: rule.match.tenants } : {}),
      },
      splits: splits.map((t) => ({ pool: `${ns}/${t.name}`, weight: t.weight })),
      fallbacks: fallbacks.map((name) => `${ns}/${name}`),
      ...(rule.modelRewrite ? { modelRewrite: rule.modelRewrite } : {}),
      ...(rule.systemPrompt
        ? { systemPrompt: { text: rule.systemPrompt.text, mode: rule.systemPrompt.mode ?? 'prepend' } }
        : {}),
      ...(rule.guardrails?.length ? { guardrails: guardrailIds(rule.guardrails, `spec.rules[${i}].guardrails`) } : {}),
      ...(rule.priority ? { priority: rule.priority } : {}),
    };
  });

  const claims: KeyClaim[] = [];
  const tenants = (rp.spec.tenants ?? []).map((t, i) => ({
    name: t.name,
    keyHashes: t.apiKeys.flatMap((ref, j) => {
      const field = `spec.tenants[${i}].apiKeys[${j}]`;
      const value = findSecretValue(secrets, ns, ref.name, ref.key);
      if (value === undefined) {
        push(field, 'SecretNotFound', `key "${ref.key}" of Secret ${ns}/${ref.name} was not found`);
        return [];
      }
      const hash = hashApiKey(value.trim());
      const owner = `RoutePolicy ${id} tenant "${t.name}"`;
      const holder = owners.get(hash) ?? claims.find((c) => c.hash === hash)?.owner;
      if (holder === owner) return []; // the same key twice in one tenant
      if (holder !== undefined) {
        problems.push({
          kind: 'RoutePolicy',
          namespace: ns,
          name: rp.metadata.name,
          field,
          reason: 'ApiKeyConflict',
          message: `the API key in key "${ref.key}" of Secret ${ns}/${ref.name} already authenticates ${holder} (a key belongs to one tenant: the oldest policy keeps it); it does not authenticate tenant "${t.name}"`,
          condition: 'Accepted',
        });
        return [];
      }
      claims.push({ hash, owner });
      return [hash];
    }),
    ...(t.models ? { models: t.models } : {}),
    ...(t.limits ? { limits: t.limits } : {}),
    ...(t.keyLimits ? { keyLimits: t.keyLimits } : {}),
    ...(t.guardrails?.length ? { guardrails: guardrailIds(t.guardrails, `spec.tenants[${i}].guardrails`) } : {}),
    ...(t.priority ? { priority: t.priority } : {}),
    ...(t.weight !== undefined && t.weight !== 1 ? { weight: t.weight } : {}),
    ...(t.priorityHeader
      ? {
          priorityHeader: {
            name: (t.priorityHeader.name ?? DEFAULT_PRIORITY_HEADER).toLowerCase(),
            allowed: t.priorityHeader.allowed,
          },
        }
      : {}),
  }));

  const cache = rp.spec.cache;
  return {
    routes,
    claims,
    policy: {
      id,
      pools: coveredPools(routes, pools),
      authRequired: rp.spec.auth?.required ?? (rp.spec.auth !== undefined || tenants.length > 0),
      tenants,
      rateLimits: (rp.spec.rateLimits ?? []).map((r) => ({
        scope: r.scope,
        ...(r.model ? { model: r.model } : {}),
        limits: r.limits,
      })),
      ...(cache
        ? {
            cache: {
              enabled: cache.enabled ?? true,
              ttlMs: parseDuration(cache.ttl ?? '5m'),
              maxEntryBytes: cache.maxEntryBytes ?? 1_048_576,
              nonDeterministic: cache.nonDeterministic ?? false,
            },
          }
        : {}),
      failureMode: rp.spec.failureMode ?? 'open',
      ...(guardrails.length > 0 ? { guardrails } : {}),
    },
  };
}

/** The policy's guardrails with defaults applied; a credential that cannot be read is a problem (sent without). */
function translateGuardrails(
  rp: RoutePolicy,
  secrets: Secret[],
  push: (field: string, reason: string, message: string) => void,
): GuardrailConfig[] {
  const ns = namespaceOf(rp);
  return (rp.spec.guardrails ?? []).map((g, i): GuardrailConfig => {
    const base = {
      id: `${idOf(rp)}/${g.name}`,
      phases: g.phases ?? ['request', 'response'],
      streamWindowChars: g.streamWindowChars ?? 128,
    };
    if (g.local) return { ...base, local: { mask: g.local.mask ?? [], deny: g.local.deny ?? [] } };
    const e = g.external;
    if (!e) throw new Error('a guardrail is local or external (checked by the schema)');
    const ref = e.credentialsRef;
    const token = ref ? findSecretValue(secrets, ns, ref.name, ref.key)?.trim() : undefined;
    if (ref && token === undefined)
      push(
        `spec.guardrails[${i}].external.credentialsRef`,
        'SecretNotFound',
        `key "${ref.key}" of Secret ${ns}/${ref.name} was not found`,
      );
    return {
      ...base,
      external: {
        url: e.url,
        timeoutMs: parseDuration(e.timeout ?? '1s'),
        failureMode: e.failureMode ?? 'closed',
        maxConcurrency: e.maxConcurrency ?? 32,
        ...(token !== undefined ? { token } : {}),
      },
    };
  });
}
