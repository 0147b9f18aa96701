/**
 * The governance view of a snapshot: API-key hash → (policy, tenant), each RoutePolicy with its tenants by name,
 * and for each pool the policies that cover it. Built once with the snapshot (compileRuntime), so per-request
 * lookups are map reads.
 */
import type { PolicyConfig, ProxyConfig } from '../../../shared/src/proxyconfig/index.js';

export type TenantConfig = PolicyConfig['tenants'][number];

/**
 * Who a valid key belongs to: one tenant of one RoutePolicy (the operator gives a key value listed twice to the
 * oldest tenant). `keyId` is a short prefix of the key's SHA-256 (never the key).
 */
export interface Identity {
  policy: string;
  tenant: string;
  keyId: string;
}

export interface PolicyView {
  config: PolicyConfig;
  tenants: Map<string, TenantConfig>;
}

export interface Directory {
  /**
   * Identity for a key hash (hex SHA-256). Keys are never compared as such: the presented key is hashed first and
   * the hash looked up, so any timing difference of the lookup depends on the SHA-256 of the guess, which tells an
   * attacker nothing about a valid key (the standard hash-then-compare defence; a byte-wise constant-time compare
   * of the hashes would add nothing).
   */
  identify(keyHash: string): Identity | undefined;
  policy(id: string): PolicyView | undefined;
  /** The policies covering a pool (by id), in snapshot order; empty when none does. */
  covering(poolId: string): readonly PolicyView[];
  /** Whether any policy requires a key (then an unknown model without a key is answered 401, not 404). */
  anyAuthRequired: boolean;
}

/** The directory of `config`. A key listed under several tenants belongs to the first. */
export function buildDirectory(config: Pick<ProxyConfig, 'policies'>): Directory {
  const keys = new Map<string, Identity>();
  const policies = new Map<string, PolicyView>();
  const covering = new Map<string, PolicyView[]>();
  for (const p of config.policies) {
    const view: PolicyView = { config: p, tenants: new Map(p.tenants.map((t) => [t.name, t])) };
    policies.set(p.id, view);
    for (const pool of p.pools) {
      const list = covering.get(pool) ?? [];
      list.push(view);
      covering.set(pool, list);
    }
    for (const t of p.tenants) {
      for (const h of t.keyHashes) {
        if (!keys.has(h)) keys.set(h, { policy: p.id, tenant: t.name, keyId: h.slice(0, 16) });
      }
    }
  }
  return {
    identify: (keyHash) => keys.get(keyHash),
    policy: (id) => policies.get(id),
    covering: (poolId) => covering.get(poolId) ?? [],
    anyAuthRequired: config.policies.some((p) => p.authRequired),
  };
}
