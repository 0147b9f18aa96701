/**
 * Route resolution, the step before any policy: which pool serves a request. The most specific matching RoutePolicy
 * rule decides (an exact model name, then the longest prefix, then a rule for any model; a match on the requested
 * name before one on another name of the pool it denotes; then more header/tenant conditions; then snapshot order).
 * A model name and the aliases of its pool are one pool: a rule on any of them matches the others. With no rule,
 * or a rule without pools, the pool named by the model serves it. Policy (auth, limits, cache) is decided afterwards
 * from the pools resolved here, never from the string that led there.
 */
import type { PoolConfig, RouteConfig } from '../../../shared/src/proxyconfig/index.js';
import { modelMatchAccepts } from '../../../shared/src/translate/coverage.js';
import type { CompiledRoute, PoolLike, RouteInput, RoutePlan, RoutingTable } from '../config/routes.js';
import { errors } from '../errors.js';

/** How a split is decided: `next` advances the split's round-robin (requests), `first` does not (visibility checks). */
export type SplitPick = 'next' | 'first';

/** True when the request meets the header and tenant conditions of rule `r`. */
export function conditionsHold(r: CompiledRoute, input: RouteInput): boolean {
  for (const h of r.headers) {
    const v = input.header(h.name);
    if (v === undefined || !h.matches(v)) return false;
  }
  const tenants = r.config.match.tenants;
  if (!tenants) return true;
  const c = input.caller;
  return c !== undefined && c.policy === r.config.policy && tenants.includes(c.tenant);
}

/** How specifically the rule's model match names `name` (-1: not at all); a larger number is more specific. */
function nameScore(m: RouteConfig['match']['model'], name: string): number {
  if (!m) return 1_000_000;
  if (!modelMatchAccepts(m, name)) return -1;
  return m.type === 'Exact' ? 3_000_000 : 2_000_000 + m.value.length * 1000;
}

/** Specificity of `r` for a request for `model` whose pool also answers to `others`, or -1. */
function specificity(r: CompiledRoute, input: RouteInput, others: readonly string[]): number {
  if (!conditionsHold(r, input)) return -1;
  const m = r.config.match.model;
  let score = nameScore(m, input.model);
  if (score >= 0) score += 100;
  else for (const n of others) score = Math.max(score, nameScore(m, n));
  if (score < 0) return -1;
  return score + r.config.match.headers.length + (r.config.match.tenants ? 1 : 0);
}

/** The matching rule with the highest specificity (the first in snapshot order among equals), if any. */
export function matchRoute(
  routes: readonly CompiledRoute[],
  input: RouteInput,
  others: readonly string[] = [],
): CompiledRoute | undefined {
  let best: CompiledRoute | undefined;
  let bestScore = -1;
  for (const r of routes) {
    const s = specificity(r, input, others);
    if (s > bestScore) {
      best = r;
      bestScore = s;
    }
  }
  return best;
}

/** True when rule `r` can send requests to `pool` (the coverage of shared/src/translate/coverage.ts). */
export function covers(r: RouteConfig, pool: PoolConfig): boolean {
  if (r.splits.some((s) => s.pool === pool.id) || r.fallbacks.includes(pool.id)) return true;
  return r.splits.length === 0 && [pool.model, ...pool.aliases].some((n) => modelMatchAccepts(r.match.model, n));
}

/**
 * A rule setting of a request served by `pool` (its system prompt, its priority class): the matched rule's, else
 * that of the most specific rule with one whose conditions the request meets and which covers the pool — so a
 * setting made for a pool applies whatever name, alias or rule led there.
 */
function settingFor<T>(
  routes: readonly CompiledRoute[],
  matched: CompiledRoute | undefined,
  pool: PoolConfig,
  input: RouteInput,
  setting: (r: RouteConfig) => T | undefined,
): T | undefined {
  const own = matched && setting(matched.config);
  if (own !== undefined) return own;
  const names = [pool.model, ...pool.aliases];
  let best: T | undefined;
  let bestScore = -1;
  for (const r of routes) {
    const value = setting(r.config);
    if (value === undefined || !covers(r.config, pool) || !conditionsHold(r, input)) continue;
    // A rule naming the pool among its pools or fallbacks is as specific as an exact name.
    const named = r.config.splits.some((x) => x.pool === pool.id) || r.config.fallbacks.includes(pool.id);
    const byName = Math.max(...names.map((n) => nameScore(r.config.match.model, n)));
    const s = (named ? 3_000_000 : byName) + r.config.match.headers.length + (r.config.match.tenants ? 1 : 0);
    if (s > bestScore) {
      best = value;
      bestScore = s;
    }
  }
  return best;
}

/** Resolves the pools for a request; a 404 in the surface's shape when nothing serves the model. */
export function resolveRoute<P extends PoolLike>(
  table: RoutingTable<P>,
  input: RouteInput,
  pick: SplitPick = 'next',
): RoutePlan<P> {
  const named = table.models.get(input.model);
  const others = named ? [named.config.model, ...named.config.aliases] : [];
  const rule = table.routes.length > 0 ? matchRoute(table.routes, input, others) : undefined;
  const route = rule?.config;
  let primary: P | undefined;
  let candidates: P[];
  if (rule && route && route.splits.length > 0) {
    candidates = route.splits.flatMap((s) => {
      const p = s.weight > 0 ? table.pools.get(s.pool) : undefined;
      return p ? [p] : [];
    });
    const id = pick === 'next' ? rule.pickSplit() : route.splits.find((s) => s.weight > 0)?.pool;
    primary = id === undefined ? undefined : table.pools.get(id);
  } else {
    primary = named;
    candidates = named ? [named] : [];
  }
  if (!primary) throw errors.modelNotFound(input.model);
  const pools = [primary];
  for (const id of route?.fallbacks ?? []) {
    const p = table.pools.get(id);
    if (p && !pools.includes(p)) pools.push(p);
  }
  const systemPrompt = settingFor(table.routes, rule, primary.config, input, (r) => r.systemPrompt);
  const priority = settingFor(table.routes, rule, primary.config, input, (r) => r.priority);
  return {
    pools,
    candidates,
    route,
    publicModel: route?.modelRewrite ?? input.model,
    ...(systemPrompt ? { systemPrompt } : {}),
    ...(priority ? { priority } : {}),
  };
}
