/**
 * The proxy's metrics on the given prom-client registry. Counters and histograms (fast-metrics.ts) are updated by
 * the recorder (recorder.ts) from the observer events of the request path (call/observers.ts); endpoint, pool and
 * snapshot gauges are computed at scrape time from the snapshot store (collect callbacks), which costs nothing per
 * request.
 */
import { collectDefaultMetrics, Gauge, type Registry } from 'prom-client';
import { PRIORITY_CLASSES } from '../../../shared/src/api/v1alpha1/index.js';
import { type Clock, systemClock } from '../../../shared/src/clock.js';
import type { SnapshotStore } from '../config/store.js';
import type { EndpointState } from '../endpoints/state.js';
import type { PoolBacklog } from '../flow-control/wait-queues.js';
import type { LeaseMode } from '../limits/replica-leases.js';
import { FastCounter, FastHistogram, keepCounterNames } from './fast-metrics.js';
import { type MetricSpec, METRIC_SPECS as S } from './metric-specs.js';

const counter = (registry: Registry, s: MetricSpec) => new FastCounter(s, registry);
const histogram = (registry: Registry, s: MetricSpec) => new FastHistogram(s, registry);
function gauge<L extends string>(registry: Registry, s: MetricSpec<L>, collect?: (g: Gauge<L>) => void) {
  return new Gauge<L>({
    name: s.name,
    help: s.help,
    labelNames: s.labelNames,
    registers: [registry],
    ...(collect
      ? {
          collect(this: Gauge<L>) {
            collect(this);
          },
        }
      : {}),
  });
}

const isUp = (e: EndpointState, now: number) => e.health !== 'unhealthy' && e.ejectedUntil <= now;

/** Redis connection state as governance reports it. */
export type RedisState = 'none' | 'up' | 'down';

/** Registers every proxy metric (and Node process metrics) on `registry`. */
export function createProxyMetrics(registry: Registry, store: SnapshotStore, clock: Clock = systemClock) {
  collectDefaultMetrics({ register: registry });
  keepCounterNames(registry);
  let inFlight = 0;
  let queued: { backlog(): readonly PoolBacklog[]; tenant(name: string | undefined): string } = {
    backlog: () => [],
    tenant: () => '',
  };
  const endpoints = () => store.current?.endpoints.values() ?? [];
  const perEndpoint = (value: (e: EndpointState, now: number) => number) => (g: Gauge<'backend' | 'endpoint'>) => {
    g.reset();
    const now = clock.now();
    for (const e of endpoints()) g.labels(e.backend.id, e.id).set(value(e, now));
  };
  let leaseMode: () => LeaseMode = () => 'down';
  const configApplies = counter(registry, S.configApplies);
  const ejections = counter(registry, S.ejections);
  const healthTransitions = counter(registry, S.healthTransitions);
  const exactLeases = counter(registry, S.exactLeases);
  const exactFallbacks = counter(registry, S.exactFallbacks);
  store.subscribe((rt) => {
    configApplies.child().inc();
    // Per-endpoint counters lose the series of replicas that left the snapshot (pods come and go with every
    // rollout): the label set stays bounded by the replicas that exist.
    const live = new Set([...rt.endpoints.values()].map((e) => `${e.backend.id}\u001f${e.id}`));
    const keep = (l: Readonly<Record<string, string | number>>) => live.has(`${l.backend}\u001f${l.endpoint}`);
    ejections.retain(keep);
    healthTransitions.retain(keep);
    const backends = new Set(rt.config.backends.map((b) => b.id));
    const known = (l: Readonly<Record<string, string | number>>) => backends.has(String(l.backend));
    exactLeases.retain(known);
    exactFallbacks.retain(known);
  });
  return {
    requests: counter(registry, S.requests),
    requestDuration: histogram(registry, S.requestDuration),
    overhead: histogram(registry, S.overhead),
    inFlightGauge: gauge(registry, S.inFlight, (g) => g.set(inFlight)),
    /** Counts a request entering (+1) or leaving (-1) the pipeline. */
    inFlight(delta: 1 | -1) {
      inFlight += delta;
    },
    ttft: histogram(registry, S.ttft),
    itl: histogram(registry, S.itl),
    attempts: counter(registry, S.attempts),
    retries: counter(registry, S.retries),
    fallbacks: counter(registry, S.fallbacks),
    retryBudgetExhausted: counter(registry, S.retryBudgetExhausted),
    queueWait: histogram(registry, S.queueWait),
    admitted: counter(registry, S.admitted),
    shed: counter(registry, S.shed),
    queuedGauge: gauge(registry, S.queued, (g) => {
      g.reset();
      for (const pool of store.current?.pools.keys() ?? [])
        for (const cls of PRIORITY_CLASSES) g.labels(pool, cls, '').set(0);
      for (const b of queued.backlog()) g.labels(b.pool, b.cls, queued.tenant(b.tenant)).inc(b.waiting);
    }),
    /** Reads the wait queues' backlog from `backlog`, tenants labelled by `tenant` (nothing waits until it is set). */
    setQueueSource(backlog: () => readonly PoolBacklog[], tenant: (name: string | undefined) => string) {
      queued = { backlog, tenant };
    },
    ejections,
    healthTransitions,
    tokens: counter(registry, S.tokens),
    cost: counter(registry, S.cost),
    observerFailures: counter(registry, S.observerFailures),
    auth: counter(registry, S.auth),
    rateLimit: counter(registry, S.rateLimit),
    rateLimitDenials: counter(registry, S.rateLimitDenials),
    cache: counter(registry, S.cache),
    redisErrors: counter(registry, S.redisErrors),
    guardrailDecisions: counter(registry, S.guardrailDecisions),
    guardrailErrors: counter(registry, S.guardrailErrors),
    guardrailDuration: histogram(registry, S.guardrailDuration),
    budgetRebuilds: counter(registry, S.budgetRebuilds),
    ledgerWritten: counter(registry, S.ledgerWritten),
    ledgerDropped: counter(registry, S.ledgerDropped),
    ledgerWriteDuration: histogram(registry, S.ledgerWriteDuration),
    /** Registers the ledger gauges, read from `stats`, when a ledger is configured (absent otherwise). */
    setLedgerSource(stats: () => { up: boolean | undefined; buffered: number }) {
      if (registry.getSingleMetric(S.ledgerUp.name)) return;
      gauge(registry, S.ledgerUp, (g) => g.set(stats().up === false ? 0 : 1));
      gauge(registry, S.ledgerBuffered, (g) => g.set(stats().buffered));
    },
    exactLeases,
    exactFallbacks,
    exactLeaseDuration: histogram(registry, S.exactLeaseDuration),
    exactActive: gauge(registry, S.exactActive, (g) => {
      g.reset();
      const active = leaseMode() === 'active' ? 1 : 0;
      for (const b of store.current?.config.backends ?? [])
        if (b.maxConcurrencyMode === 'exact') g.labels(b.id).set(active);
    }),
    /** Reads whether exact caps apply from `mode` (the replica leases; without them every Exact backend shows 0). */
    setLeaseSource(mode: () => LeaseMode) {
      leaseMode = mode;
    },
    /** Registers `switchyard_redis_up`, read from `source`, when a Redis is configured (absent otherwise). */
    setRedisSource(source: () => RedisState) {
      if (source() === 'none' || registry.getSingleMetric(S.redisUp.name)) return;
      gauge(registry, S.redisUp, (g) => g.set(source() === 'up' ? 1 : 0));
    },
    endpointUp: gauge(
      registry,
      S.endpointUp,
      perEndpoint((e, now) => (isUp(e, now) ? 1 : 0)),
    ),
    endpointHealth: gauge(registry, S.endpointHealth, (g) => {
      g.reset();
      for (const e of endpoints())
        for (const state of ['healthy', 'unhealthy', 'unknown'] as const)
          g.labels(e.backend.id, e.id, state).set(e.health === state ? 1 : 0);
    }),
    endpointInFlight: gauge(
      registry,
      S.endpointInFlight,
      perEndpoint((e) => e.inflight),
    ),
    endpointLatency: gauge(
      registry,
      S.endpointLatency,
      perEndpoint((e) => e.ewmaMs / 1000),
    ),
    poolEndpoints: gauge(registry, S.poolEndpoints, (g) => {
      g.reset();
      const rt = store.current;
      if (!rt) return;
      const now = clock.now();
      for (const pool of rt.pools.values()) {
        let up = 0;
        let down = 0;
        for (const tier of pool.tiers)
          for (const m of tier.members) {
            if (isUp(m.endpoint, now)) up++;
            else down++;
          }
        g.labels(pool.config.id, 'up').set(up);
        g.labels(pool.config.id, 'down').set(down);
      }
    }),
    configInfo: gauge(registry, S.configInfo, (g) => {
      g.reset();
      const version = store.current?.config.version;
      if (version) g.labels(version).set(1);
    }),
    configApplied: gauge(registry, S.configApplied, (g) => g.set(store.current ? store.appliedAt / 1000 : 0)),
    configApplies,
  };
}

export type ProxyMetrics = ReturnType<typeof createProxyMetrics>;
