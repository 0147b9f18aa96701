/**
 * A snapshot compiled for serving: model-name index, pools expanded into endpoint tiers, routes in match order.
 * Immutable once built; the EndpointState objects inside are shared with the previous runtime where unchanged.
 */
import {
  type BackendConfig,
  type FleetView,
  fleetShare,
  type PoolConfig,
  type ProxyConfig,
} from '../../../shared/src/proxyconfig/index.js';
import type { PoolMember } from '../endpoints/member.js';
import { EndpointState } from '../endpoints/state.js';
import { serves } from '../protocols/adapters.js';
import { type Operation, perOperation } from '../protocols/catalog.js';
import { AffinityRegistry, createScheduler, type Scheduler } from '../scheduling/index.js';
import { buildDirectory, type Directory } from './directory.js';
import { type CompiledRoute, compileRoutes } from './routes.js';

/** Members of one priority tier with the tier's scheduler. */
export interface Tier {
  priority: number;
  members: PoolMember[];
  scheduler: Scheduler;
}

/** Which members of a pool can serve one operation (their upstream protocol has an adapter for it). */
export interface OperationSupport {
  /** Some member can serve it. */
  servable: boolean;
  /** Members that cannot (their protocol has no adapter for it): never picked for it. */
  unservable: ReadonlySet<EndpointState>;
  /** The provider of a member that cannot, for the 400 when none can. */
  provider: string | undefined;
}

export interface PoolRuntime {
  config: PoolConfig;
  tiers: Tier[];
  /** Per operation, which members can serve it (compiled once with the snapshot). */
  support: Record<Operation, OperationSupport>;
}

/**
 * Who may call a pool no RoutePolicy covers: everyone (`allow`, no auth, limits or cache) or no one (`deny`). Set
 * per proxy (flag `--default-access`, chart `proxy.defaultAccess`), not by the snapshot.
 */
export type DefaultAccess = 'allow' | 'deny';

export interface Runtime {
  config: ProxyConfig;
  pools: Map<string, PoolRuntime>;
  /** Model name or alias → pool. */
  models: Map<string, PoolRuntime>;
  /** The snapshot's rules compiled for matching, in snapshot order. */
  routes: CompiledRoute[];
  endpoints: Map<string, EndpointState>;
  defaultAccess: DefaultAccess;
  /**
   * This proxy's place in the fleet: the snapshot's (the operator's count of proxies), else the one configured for
   * standalone mode; undefined when this proxy is the whole fleet. Fleet-wide numbers applied here alone (replica
   * caps, local limits) are its share (fleetShare).
   */
  fleet: FleetView | undefined;
  /** API keys, tenants and which policies cover each pool. */
  directory: Directory;
  /** Backend id → backend (pricing, for usage cost). */
  backends: ReadonlyMap<string, BackendConfig>;
  /** Every tenant name a policy declares (metric labels take only these). */
  tenants: ReadonlySet<string>;
  /** Endpoints an active health check watches (their backend enables it). */
  checked: ReadonlySet<EndpointState>;
  /** Endpoints whose load is scraped: of llm-aware pools, with metrics enabled on their backend. */
  scraped: ReadonlySet<EndpointState>;
  /** This proxy's prefix and session tables, passed on from each runtime to the next. */
  affinity: AffinityRegistry;
}

/** How a snapshot is compiled on this proxy (settings of the proxy, not of the snapshot). */
export interface CompileOptions {
  defaultAccess?: DefaultAccess;
  /** The fleet this proxy belongs to when the snapshot does not say (standalone mode; `--fleet-size`). */
  fleet?: FleetView | undefined;
  /** Replica leases in the shared Redis, for backends in exact mode (without them exact mode keeps the shares). */
  leases?: { active(): boolean } | undefined;
}

/**
 * For each operation, the members of `tiers` whose upstream protocol cannot serve it. A pool without members
 * serves every operation (with nothing to serve it: 503, like any pool without capacity), not a 400.
 */
function operationSupport(tiers: readonly Tier[]): Record<Operation, OperationSupport> {
  const members = tiers.flatMap((t) => t.members.map((m) => m.endpoint));
  return perOperation((op) => {
    const unservable = new Set(members.filter((e) => !serves(op, e.backend.provider)));
    const first = unservable.values().next().value;
    return {
      servable: members.length === 0 || unservable.size < members.length,
      unservable,
      provider: first?.backend.provider,
    };
  });
}

/**
 * Endpoints whose backend has metrics enabled in a pool that reads them: llm-aware scheduling, or load shedding on
 * the replicas' saturation (flow-control/).
 */
function scrapedEndpoints(pools: Iterable<PoolRuntime>): Set<EndpointState> {
  const out = new Set<EndpointState>();
  for (const pool of pools) {
    if (!readsServerLoad(pool.config)) continue;
    for (const tier of pool.tiers)
      for (const m of tier.members) if (m.endpoint.backend.metrics?.enabled) out.add(m.endpoint);
  }
  return out;
}

/** Whether a pool sheds sheddable requests on its replicas' reported saturation (absent: when llm-aware). */
export function shedsOnSaturation(pool: PoolConfig): boolean {
  const s = pool.scheduling;
  return s.overload?.shedOnSaturation ?? s.strategy === 'llm-aware';
}

/** Whether a pool reads its replicas' scraped load: llm-aware scheduling or shedding on saturation. */
function readsServerLoad(pool: PoolConfig): boolean {
  return pool.scheduling.strategy === 'llm-aware' || shedsOnSaturation(pool);
}

/** Stops the schedulers of a replaced runtime from watching endpoints (requests still on it keep working). */
export function disposeSchedulers(rt: Runtime): void {
  for (const pool of rt.pools.values()) for (const tier of pool.tiers) tier.scheduler.dispose?.();
}

/** Compiles a snapshot, reusing endpoint state from `previous` for replicas that are still present. */
export function compileRuntime(config: ProxyConfig, previous?: Runtime, options: CompileOptions = {}): Runtime {
  const fleet = config.fleet ?? options.fleet;
  const affinity = previous?.affinity ?? new AffinityRegistry();
  const endpoints = new Map<string, EndpointState>();
  const backends = new Map(config.backends.map((b) => [b.id, b]));
  for (const b of config.backends) {
    for (const ep of b.endpoints) {
      const key = EndpointState.keyOf(b, ep);
      const state = previous?.endpoints.get(key) ?? new EndpointState(key, b, ep);
      state.backend = b;
      state.id = ep.id;
      state.weight = ep.weight;
      state.fleetCap = b.maxConcurrency ?? Number.POSITIVE_INFINITY;
      state.cap = fleetShare(state.fleetCap, fleet, key);
      state.exact = b.maxConcurrencyMode === 'exact' ? options.leases : undefined;
      endpoints.set(key, state);
    }
  }
  const pools = new Map<string, PoolRuntime>();
  const models = new Map<string, PoolRuntime>();
  for (const p of config.pools) {
    const byPriority = new Map<number, PoolMember[]>();
    for (const t of p.targets) {
      const b = backends.get(t.backend);
      if (!b) continue;
      const members = byPriority.get(t.priority) ?? [];
      for (const ep of b.endpoints) {
        const endpoint = endpoints.get(EndpointState.keyOf(b, ep));
        if (endpoint) members.push({ endpoint, weight: t.weight * ep.weight, target: t });
      }
      byPriority.set(t.priority, members);
    }
    const tiers = [...byPriority.entries()]
      .sort(([a], [b]) => a - b)
      .map(([priority, members]) => ({ priority, members, scheduler: createScheduler(p, members, affinity) }));
    const runtime: PoolRuntime = { config: p, tiers, support: operationSupport(tiers) };
    pools.set(p.id, runtime);
    for (const name of [p.model, ...p.aliases]) models.set(name, runtime);
  }
  return {
    config,
    pools,
    models,
    routes: compileRoutes(config.routes),
    endpoints,
    defaultAccess: options.defaultAccess ?? 'allow',
    fleet,
    directory: buildDirectory(config),
    backends,
    tenants: new Set(config.policies.flatMap((p) => p.tenants.map((t) => t.name))),
    checked: new Set([...endpoints.values()].filter((e) => e.backend.healthCheck.enabled)),
    scraped: scrapedEndpoints(pools.values()),
    affinity,
  };
}

/**
 * Whether this proxy keeps within its shares: no replica has more of its requests in flight than its cap. After a
 * smaller share arrives the requests already sent finish first; the operator waits for this before giving the
 * freed share to another proxy. O(endpoints).
 */
export function withinShares(rt: Runtime): boolean {
  for (const e of rt.endpoints.values()) if (e.inflight > e.maxConcurrency) return false;
  return true;
}
