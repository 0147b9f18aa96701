/**
 * RoutePolicy rules compiled for serving (once with each snapshot), and the plan route resolution (routing/) makes of
 * them. Compiled rules: header matches as exact compares or RE2 full matches (linear in the
 * header's length whatever the pattern: a client's header value cannot stall the proxy), and each traffic split as
 * a smooth weighted round-robin, so the shares hold exactly (within one request per proxy) rather than on average.
 */

import type { PriorityClass } from '../../../shared/src/api/v1alpha1/index.js';
import { compileFullMatch } from '../../../shared/src/matching/re2.js';
import type { PoolConfig, RouteConfig } from '../../../shared/src/proxyconfig/index.js';

export interface HeaderMatcher {
  /** Lower-case header name. */
  name: string;
  matches(value: string): boolean;
}

export interface CompiledRoute {
  config: RouteConfig;
  headers: HeaderMatcher[];
  /** The split's next pool id (undefined for a rule without pools). */
  pickSplit(): string | undefined;
}

const never: HeaderMatcher['matches'] = () => false;

function headerMatcher(h: RouteConfig['match']['headers'][number]): HeaderMatcher {
  if (h.type === 'Exact') return { name: h.name, matches: (v) => v === h.value };
  try {
    return { name: h.name, matches: compileFullMatch(h.value).matches };
  } catch {
    // The snapshot schema refuses such patterns; a rule that still had one would match nothing, never fail.
    return { name: h.name, matches: never };
  }
}

/** Smooth weighted round-robin (nginx): each pick adds every weight and takes the largest, minus the total. */
function splitPicker(splits: RouteConfig['splits']): () => string | undefined {
  const live = splits.filter((s) => s.weight > 0);
  if (live.length === 0) return () => undefined;
  const total = live.reduce((n, s) => n + s.weight, 0);
  const current = live.map(() => 0);
  return () => {
    let best = 0;
    for (let i = 0; i < live.length; i++) {
      current[i] = (current[i] as number) + (live[i] as { weight: number }).weight;
      if ((current[i] as number) > (current[best] as number)) best = i;
    }
    current[best] = (current[best] as number) - total;
    return live[best]?.pool;
  };
}

/** Compiles the snapshot's rules, in the snapshot's order. */
export function compileRoutes(routes: readonly RouteConfig[]): CompiledRoute[] {
  return routes.map((config) => ({
    config,
    headers: config.match.headers.map(headerMatcher),
    pickSplit: splitPicker(config.splits),
  }));
}

/** What resolution needs of a pool. */
export interface PoolLike {
  config: PoolConfig;
}

/** The compiled snapshot as routing sees it. */
export interface RoutingTable<P extends PoolLike> {
  routes: readonly CompiledRoute[];
  /** Model name or alias → pool. */
  models: ReadonlyMap<string, P>;
  /** Pool id → pool. */
  pools: ReadonlyMap<string, P>;
}

/** An authenticated caller: its tenant in the RoutePolicy that holds its key (rules match tenants of their policy). */
export interface RouteCaller {
  policy: string;
  tenant: string;
}

export interface RouteInput {
  model: string;
  header(name: string): string | undefined;
  caller?: RouteCaller | undefined;
}

export type SystemPrompt = NonNullable<RouteConfig['systemPrompt']>;

export interface RoutePlan<P extends PoolLike> {
  /** The selected pool first, then the fallback chain. */
  pools: P[];
  /** Every pool the request could have been sent to by this resolution (all pools of a split): policy checks them all. */
  candidates: P[];
  route: RouteConfig | undefined;
  /** Model name reported to the client: the rule's modelRewrite, else the name it asked for. */
  publicModel: string;
  /** The system prompt applied to the request, if any (the rule setting for the selected pool, resolve.ts). */
  systemPrompt?: SystemPrompt | undefined;
  /** The priority class the rules give the request at the selected pool, if any (like the system prompt). */
  priority?: PriorityClass | undefined;
}
