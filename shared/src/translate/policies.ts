/** RoutePolicy → RouteConfig[] + PolicyConfig: pool names resolved to ids, API keys hashed. */
import { createHash } from 'node:crypto';
import { parseDuration, type RoutePolicy, type Secret } from '../api/v1alpha1/index.js';
import type { PolicyConfig, RouteConfig } from '../proxyconfig/index.js';
import { findSecretValue, idOf, namespaceOf } from './backends.js';
import type { Problem } from './problems.js';

/** SHA-256 hex of an API key: the only form in which keys appear in a snapshot. */
export const hashApiKey = (key: string) => createHash('sha256').update(key).digest('hex');

/** Translates one policy; pool references that do not exist are problems and are left out. */
export function translatePolicy(
  rp: RoutePolicy,
  poolExists: (id: string) => boolean,
  secrets: Secret[],
  problems: Problem[],
): { routes: RouteConfig[]; policy: PolicyConfig } {
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
    };
  });

  const tenants = (rp.spec.tenants ?? []).map((t, i) => ({
    name: t.name,
    keyHashes: t.apiKeys.flatMap((ref, j) => {
      const value = findSecretValue(secrets, ns, ref.name, ref.key);
      if (value === undefined) {
        push(
          `spec.tenants[${i}].apiKeys[${j}]`,
          'SecretNotFound',
          `key "${ref.key}" of Secret ${ns}/${ref.name} was not found`,
        );
        return [];
      }
      return [hashApiKey(value.trim())];
    }),
    ...(t.models ? { models: t.models } : {}),
    ...(t.limits ? { limits: t.limits } : {}),
    ...(t.keyLimits ? { keyLimits: t.keyLimits } : {}),
  }));

  const cache = rp.spec.cache;
  return {
    routes,
    policy: {
      id,
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
    },
  };
}
