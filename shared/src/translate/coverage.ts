/**
 * Which pools a RoutePolicy covers: every pool its rules can send a request to — the pools of a split, the
 * fallbacks, and, for a rule without pools (it routes by model name), each pool one of whose names (model or alias)
 * the rule's model match accepts (every pool when the rule matches any model). Header and tenant conditions do not
 * narrow coverage: the policy's protection belongs to the pool, whatever name, alias or path leads there.
 */
import type { RouteConfig } from '../proxyconfig/index.js';

/** A pool as coverage sees it: its id and the names clients call it by. */
export interface NamedPool {
  id: string;
  names: readonly string[];
}

/** True when the rule's model match accepts `name` (a rule without one accepts every name). */
export function modelMatchAccepts(match: RouteConfig['match']['model'], name: string): boolean {
  if (!match) return true;
  return match.type === 'Exact' ? name === match.value : name.startsWith(match.value);
}

/** Ids of the pools `routes` cover, sorted. */
export function coveredPools(routes: readonly RouteConfig[], pools: readonly NamedPool[]): string[] {
  const covered = new Set<string>();
  for (const r of routes) {
    for (const s of r.splits) covered.add(s.pool);
    for (const f of r.fallbacks) covered.add(f);
    if (r.splits.length > 0) continue;
    for (const p of pools) if (p.names.some((n) => modelMatchAccepts(r.match.model, n))) covered.add(p.id);
  }
  return [...covered].sort();
}
