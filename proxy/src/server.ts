/**
 * startProxy(): the traffic server (8080) and the admin server (9090) with their shared state, and a graceful
 * drain: stop accepting, fail /readyz, let in-flight requests and streams finish within a grace period, then close.
 */

import type { Server, ServerOptions } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { type Clock, systemClock } from '../../shared/src/clock.js';
import type { FleetView } from '../../shared/src/proxyconfig/index.js';
import { createAdminApp } from './admin/app.js';
import { createApp } from './app.js';
import { type CallObserver, Observers } from './call/observers.js';
import { watchManifests } from './config/file-source.js';
import type { DefaultAccess } from './config/runtime.js';
import { SnapshotStore } from './config/store.js';
import { maintainEndpoints } from './config/upkeep.js';
import { WaitQueues } from './flow-control/wait-queues.js';
import { createGovernance, type Governance } from './governance.js';
import { DRAIN_IDLE_MS, DRAIN_SWEEP_MS, stopListening, trackConnections } from './http/connections.js';
import { type ResourceLimits, resolveLimits } from './http/limits.js';
import { lingerOnClose } from './http/lingering-close.js';
import { createLedger, type Ledger, type LedgerOptions } from './ledger/index.js';
import { recordToLedger } from './ledger/observer.js';
import { createTelemetry, installTelemetry } from './telemetry/index.js';
import { LabelPolicy } from './telemetry/labels.js';
import { createLogger } from './telemetry/logger.js';
import type { ProxyMetrics } from './telemetry/metrics.js';
import type { OtelEnv } from './telemetry/tracing.js';
import { UpstreamPools } from './upstream/pools.js';

export interface ProxyOptions {
  host?: string;
  port?: number;
  adminHost?: string;
  adminPort?: number;
  /** Standalone mode: manifests file or directory to load and watch. */
  configPath?: string;
  pushToken?: string;
  /** Bounds on request bodies, header/body timeouts and upstream answers (defaults: http/limits.ts). */
  limits?: Partial<ResourceLimits>;
  log?: Logger;
  logLevel?: string;
  /** One access-log line per request (default true; turn off for benchmarks). */
  accessLog?: boolean;
  /** Where OpenTelemetry reads its OTEL_* settings; default process.env (tracing is off without an endpoint). */
  otelEnv?: OtelEnv;
  /** Redis for rate limits and the response cache, shared by all replicas (omitted: local limits only). */
  redisUrl?: string;
  /** Who may call pools no RoutePolicy covers (default `allow`; `deny` is the secure choice). */
  defaultAccess?: DefaultAccess;
  /**
   * Standalone mode: the proxies sharing fleet-wide numbers and which one this is (`--fleet-size`,
   * `--fleet-ordinal`); a pushed snapshot's own fleet view wins. Omitted: this proxy is the whole fleet.
   */
  fleet?: FleetView;
  /** Redis command timeout in ms (default 1000); past it a command counts as Redis being unavailable. */
  redisCommandTimeoutMs?: number;
  /** Bearer token that may read GET /usage on the admin port (the push token may too). */
  usageToken?: string;
  /** The usage ledger in PostgreSQL (omitted: no ledger, budgets live in Redis only). */
  ledger?: Omit<LedgerOptions, 'log' | 'clock'>;
  /** Observers of the request path besides the proxy's own (metrics, access log, traces, ledger), told first. */
  observers?: CallObserver[];
  /**
   * Time and timers of the proxy (default: the system clock; a test passes a fake one to drive them): health
   * checks, load scraping, wait-queue timeouts and the drain; each request's start, body time limit, deadline, retry
   * back-offs, Retry-After waits and upstream attempt timeouts (first byte, idle, total, per try); the external
   * guardrails' deadlines; the local rate windows, budget periods and the budgets' rebuild; replica lease renewals;
   * the debounce of reloads in standalone mode; the ledger's flushes, back-off and retention rounds, and the times
   * its entries carry. Durations that are only measured (latency, overhead) use performance.now(), which a Clock
   * does not offer.
   */
  clock?: Clock;
}

export interface ProxyHandle {
  port: number;
  adminPort: number;
  url: string;
  adminUrl: string;
  store: SnapshotStore;
  log: Logger;
  /** Auth, rate limits, cache and usage stages (stats). */
  governance: Governance;
  /** Adds an observer of the request path. */
  observe(observer: CallObserver): void;
  ledger: Ledger | undefined;
  /** Drains in-flight requests for up to `graceMs`, then closes everything. */
  close(graceMs?: number): Promise<void>;
}

/**
 * Node's own bounds on the traffic listener: request line and headers within the headers timeout (Node answers 408
 * and closes), and, as a backstop for bodies no handler reads (unknown paths), the whole request within the headers
 * and body timeouts plus a second. Timeouts are checked every quarter of the headers timeout (at most each second).
 */
function trafficServerOptions(limits: ResourceLimits): ServerOptions {
  const headersTimeout = limits.headersTimeoutMs;
  return {
    keepAliveTimeout: 65_000,
    headersTimeout,
    requestTimeout: limits.bodyTimeoutMs > 0 ? headersTimeout + limits.bodyTimeoutMs + 1000 : 0,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))),
  };
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function startProxy(opts: ProxyOptions = {}): Promise<ProxyHandle> {
  const log = opts.log ?? createLogger({ ...(opts.logLevel ? { level: opts.logLevel } : {}) });
  const clock = opts.clock ?? systemClock;
  let leases: Governance['leases'];
  const store = new SnapshotStore({
    ...(opts.defaultAccess ? { defaultAccess: opts.defaultAccess } : {}),
    ...(opts.fleet ? { fleet: opts.fleet } : {}),
    leases: { active: () => leases?.active() === true },
  });
  const pools = new UpstreamPools();
  const registry = new Registry();
  let accepting = true;
  const observers = new Observers(log);
  for (const o of opts.observers ?? []) observers.add(o);
  let metrics: ProxyMetrics | undefined;
  const ledger = opts.ledger
    ? createLedger({
        ...opts.ledger,
        log,
        clock,
        events: {
          onWritten: (n, ms) => {
            metrics?.ledgerWritten.child().inc(n);
            metrics?.ledgerWriteDuration.child().observe(ms / 1000);
          },
          onDropped: (n, reason) => metrics?.ledgerDropped.child(reason).inc(n),
        },
      })
    : undefined;
  const governance = createGovernance({
    log,
    observers,
    clock,
    redisUrl: opts.redisUrl,
    ...(ledger ? { budgetUsage: (scope) => ledger.budgetUsage(scope), config: () => store.current?.config } : {}),
    ...(opts.redisCommandTimeoutMs !== undefined ? { redisCommandTimeoutMs: opts.redisCommandTimeoutMs } : {}),
  });
  leases = governance.leases;
  if (opts.redisUrl && !(await governance.ready(2000))) log.warn('redis not reachable yet: limits start local');
  const telemetry = await createTelemetry({
    registry,
    store,
    log,
    clock,
    ...(opts.accessLog !== undefined ? { accessLog: opts.accessLog } : {}),
    ...(opts.otelEnv ? { otelEnv: opts.otelEnv } : {}),
  });
  installTelemetry(observers, telemetry);
  metrics = telemetry.metrics;
  metrics.setRedisSource(() => governance.stats().redis);
  const { leases: replicaLeases } = governance;
  if (replicaLeases) metrics.setLeaseSource(() => replicaLeases.mode());
  const queues = new WaitQueues(clock);
  const labels = new LabelPolicy(() => store.current);
  metrics.setQueueSource(
    () => queues.backlog(),
    (tenant) => labels.tenant(tenant),
  );
  if (ledger) {
    metrics.setLedgerSource(() => ledger.stats());
    observers.add(recordToLedger(ledger, () => clock.now()));
  }
  const stopWatching = opts.configPath ? await watchManifests(opts.configPath, store, log, clock) : undefined;
  const unsubscribe = store.subscribe((rt) => pools.retain(new Set([...rt.endpoints.values()].map((e) => e.origin))));
  const stopEndpointUpkeep = maintainEndpoints(store, {
    clock,
    log,
    onHealthChange: (e, from, to) => observers.emit('onHealthChange', e, from, to),
  });

  const app = createApp({
    store,
    pools,
    log,
    governance,
    observers,
    queues,
    clock,
    ...(opts.limits ? { limits: opts.limits } : {}),
  });
  const admin = createAdminApp({
    store,
    log,
    pushToken: opts.pushToken,
    usageToken: opts.usageToken,
    ledger,
    registry,
    isAccepting: () => accepting,
    clock,
  });
  const limits = resolveLimits(opts.limits);
  const traffic = createAdaptorServer({ fetch: app.fetch, serverOptions: trafficServerOptions(limits) }) as Server;
  const adminServer = createAdaptorServer({ fetch: admin.fetch }) as Server;
  const connections = trackConnections(traffic, clock);
  lingerOnClose(traffic, {
    clock,
    onEnd: (end, discardedBytes) => log.debug({ end, discardedBytes }, 'lingering close ended'),
  });
  const host = opts.host ?? '0.0.0.0';
  const adminHost = opts.adminHost ?? host;
  const port = await listen(traffic, opts.port ?? 8080, host);
  const adminPort = await listen(adminServer, opts.adminPort ?? 9090, adminHost);
  const fmt = (h: string, p: number) => `http://${h.includes(':') ? `[${h}]` : h === '0.0.0.0' ? '127.0.0.1' : h}:${p}`;
  log.info({ port, adminPort, standalone: Boolean(opts.configPath) }, 'switchyard proxy listening');

  let closing: Promise<void> | undefined;
  const close = (graceMs = 30_000) => {
    closing ??= (async () => {
      accepting = false;
      stopWatching?.();
      unsubscribe();
      const upkeepStopped = stopEndpointUpkeep();
      // Answers from now on close their connection; kept-alive connections are closed once idle for a while, not
      // the moment they go idle (their client may be sending its next request on them right then).
      connections.startDraining();
      const drained = stopListening(traffic);
      const sweeper = clock.every(DRAIN_SWEEP_MS, () => connections.closeIdle(DRAIN_IDLE_MS));
      const timer = clock.after(graceMs, () => traffic.closeAllConnections());
      await drained;
      sweeper.cancel();
      timer.cancel();
      await new Promise<void>((resolve) => {
        adminServer.close(() => resolve());
        adminServer.closeAllConnections();
      });
      await upkeepStopped;
      await pools.close();
      await governance.close();
      await ledger?.close();
      await telemetry.shutdown();
      log.info('switchyard proxy stopped');
    })();
    return closing;
  };
  return {
    port,
    adminPort,
    url: fmt(host, port),
    adminUrl: fmt(adminHost, adminPort),
    store,
    log,
    governance,
    observe: (o) => observers.add(o),
    ledger,
    close,
  };
}
