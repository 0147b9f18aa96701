/**
 * Route resolution: which pools serve a request. The most specific matching RoutePolicy rule wins (exact model,
 * then longest prefix, then catch-all; ties by policy order); with no rule the pool named by the model serves it.
 */
import type { RouteConfig } from '../../../shared/src/proxyconfig/index.js';
import type { PoolRuntime, Runtime } from '../config/runtime.js';
import { errors } from '../errors.js';

export interface RoutePlan {
  /** The selected pool first, then the fallback chain. */
  pools: PoolRuntime[];
  route: RouteConfig | undefined;
  /** Model name reported to the client. */
  publicModel: string;
}

export interface RouteInput {
  model: string;
  header(name: string): string | undefined;
  tenant?: string | undefined;
}

const regexCache = new Map<string, RegExp>();
function regex(pattern: string): RegExp {
  let r = regexCache.get(pattern);
  if (!r) {
    r = new RegExp(`^(?:${pattern})$`);
    if (regexCache.size > 1000) regexCache.clear();
    regexCache.set(pattern, r);
  }
  return r;
}

/** Specificity of `route` for the input, or -1 when it does not match. */
function specificity(route: RouteConfig, input: RouteInput): number {
  const m = route.match;
  for (const h of m.headers) {
    const v = input.header(h.name);
    if (v === undefined || (h.type === 'Exact' ? v !== h.value : !regex(h.value).test(v))) return -1;
  }
  if (m.tenants && (input.tenant === undefined || !m.tenants.includes(input.tenant))) return -1;
  const extra = m.headers.length + (m.tenants ? 1 : 0);
  if (!m.model) return 1 + extra / 100;
  if (m.model.type === 'Exact') return m.model.value === input.model ? 1_000_000 + extra / 100 : -1;
  return input.model.startsWith(m.model.value) ? 1_000 + m.model.value.length + extra / 100 : -1;
}

/** The matching rule with the highest specificity, if any. */
export function matchRoute(routes: readonly RouteConfig[], input: RouteInput): RouteConfig | undefined {
  let best: RouteConfig | undefined;
  let bestScore = -1;
  for (const r of routes) {
    const s = specificity(r, input);
    if (s > bestScore) {
      best = r;
      bestScore = s;
    }
  }
  return best;
}

function pickSplit(route: RouteConfig): string | undefined {
  let total = 0;
  for (const s of route.splits) total += s.weight;
  let r = Math.random() * total;
  for (const s of route.splits) {
    r -= s.weight;
    if (r < 0) return s.pool;
  }
  return route.splits.at(-1)?.pool;
}

/** Resolves the pools for a request; 404 in the surface's shape when the model is unknown. */
export function resolveRoute(rt: Runtime, input: RouteInput): RoutePlan {
  const route = rt.routes.length > 0 ? matchRoute(rt.routes, input) : undefined;
  let primary: PoolRuntime | undefined;
  if (route && route.splits.length > 0) {
    const id = pickSplit(route);
    primary = id === undefined ? undefined : rt.pools.get(id);
  } else {
    primary = rt.models.get(input.model);
  }
  if (!primary) throw errors.modelNotFound(input.model);
  const pools = [primary];
  for (const id of route?.fallbacks ?? []) {
    const p = rt.pools.get(id);
    if (p && !pools.includes(p)) pools.push(p);
  }
  return { pools, route, publicModel: route?.modelRewrite ?? input.model };
}
