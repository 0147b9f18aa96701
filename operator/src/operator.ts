/**
 * Wires the operator together: informers over the watched resources, the work queue and controller, the pusher
 * fed by the proxy Service's EndpointSlices, and (optionally) leader election: informers run on every replica
 * (warm standby), reconciling, status writes and pushes only on the leader. Secrets are not watched: the leader
 * reads the referenced ones by name (controllers/secrets.ts). A Service or EndpointSlice change queues a
 * translation only when a backend references that Service.
 */
import type { Logger } from 'pino';
import { type Clock, type CustomResourceKind, systemClock } from '../../shared/src/index.js';
import { controllerOf, SNAPSHOT_KEY, SwitchyardController } from './controllers/controller.js';
import { SecretReader } from './controllers/secrets.js';
import { SERVICE_NAME_LABEL } from './discovery/endpointslices.js';
import { createKubeClient, type KubeClient } from './k8s/client.js';
import { EventRecorder } from './k8s/events.js';
import type { ClusterConnection } from './k8s/kubeconfig.js';
import type { CustomObject, EndpointSlice, Service } from './k8s/objects.js';
import { ENDPOINT_SLICES, LLM_BACKENDS, LLM_POOLS, ROUTE_POLICIES, SERVICES } from './k8s/resources.js';
import type { OperatorMetrics } from './metrics.js';
import { Pusher } from './push/pusher.js';
import { proxyTargets, terminatingProxies } from './push/targets.js';
import { Informer } from './runtime/informer.js';
import { type LeaderElectionOptions, LeaderElector } from './runtime/leader.js';
import { WorkQueue } from './runtime/workqueue.js';

/** Options of one operator instance. */
export interface OperatorOptions {
  connection: ClusterConnection;
  /** Namespace to watch; all when undefined. */
  namespace?: string | undefined;
  /** The proxy Service, `namespace/name`. */
  proxyService: string;
  /** Admin port number, or the name of the proxy Service port exposing it. */
  proxyAdminPort: number | string;
  /** Bearer token for proxy admin APIs. */
  pushToken: () => string;
  pushTimeoutMs?: number;
  resyncIntervalMs?: number;
  /** The Lease and timings of leader election (the operator supplies the callbacks, clock and log). */
  leaderElection?: Omit<LeaderElectionOptions, 'onStartedLeading' | 'onStoppedLeading' | 'clock' | 'log'>;
  workers?: number;
  metrics: OperatorMetrics;
  /** Clock of every timer, deadline and period (default: the system clock). */
  clock?: Clock;
  log: Logger;
  /** Called when leadership is lost: the process should exit (controller-runtime does the same). */
  onLostLeadership?: () => void;
}

/** A running operator. */
export interface RunningOperator {
  client: KubeClient;
  /** Resolves when every informer has listed once. */
  synced: Promise<void>;
  isLeader(): boolean;
  controller(): SwitchyardController | undefined;
  pusher(): Pusher | undefined;
  /** Stops reconciling and pushing and releases the Lease. */
  stop(): Promise<void>;
}

/** Starts the operator. */
export function startOperator(o: OperatorOptions): RunningOperator {
  const client = createKubeClient(o.connection, { log: o.log });
  const log = o.log;
  const clock = o.clock ?? systemClock;
  const ns = { namespace: o.namespace, clock, log };
  const backends = new Informer<CustomObject>(client, LLM_BACKENDS, ns);
  const pools = new Informer<CustomObject>(client, LLM_POOLS, ns);
  const policies = new Informer<CustomObject>(client, ROUTE_POLICIES, ns);
  const slices = new Informer<EndpointSlice>(client, ENDPOINT_SLICES, ns);
  const services = new Informer<Service>(client, SERVICES, ns);
  const [proxyNs, proxyName] = o.proxyService.split('/') as [string, string];
  const proxySlices = new Informer<EndpointSlice>(client, ENDPOINT_SLICES, {
    namespace: proxyNs,
    labelSelector: `${SERVICE_NAME_LABEL}=${proxyName}`,
    clock,
    log,
  });
  const crInformers: Record<CustomResourceKind, Informer<CustomObject>> = {
    LLMBackend: backends,
    LLMPool: pools,
    RoutePolicy: policies,
  };

  const queue = new WorkQueue({
    clock,
    onDepth: (d) => o.metrics.queueDepth.set(d),
    onWait: (key, seconds) => o.metrics.queueWaitSeconds.observe({ controller: controllerOf(key) }, seconds),
  });
  let controller: SwitchyardController | undefined;
  let pusher: Pusher | undefined;
  let secretReader: SecretReader | undefined;
  let leading = false;
  const changed = () => queue.add(SNAPSHOT_KEY);
  for (const inf of [backends, pools, policies]) inf.on(changed);
  const serviceChanged = (key: string) => {
    if (controller?.referencesService(key) ?? true) changed();
  };
  services.on((_, s) => serviceChanged(`${s.metadata.namespace}/${s.metadata.name}`));
  slices.on((_, s) => serviceChanged(`${s.metadata.namespace}/${s.metadata.labels?.[SERVICE_NAME_LABEL] ?? ''}`));
  const refreshTargets = () => {
    const list = proxySlices.list();
    pusher?.setTargets(proxyTargets(list, o.proxyAdminPort), terminatingProxies(list, o.proxyAdminPort));
  };
  proxySlices.on(refreshTargets);

  const all = [backends, pools, policies, slices, services, proxySlices];
  for (const inf of all) inf.start();
  const synced = Promise.all(all.map((i) => i.synced)).then(() => undefined);

  const startLeading = () => {
    leading = true;
    o.metrics.leader.set(1);
    pusher = new Pusher({
      token: o.pushToken,
      timeoutMs: o.pushTimeoutMs,
      resyncIntervalMs: o.resyncIntervalMs,
      clock,
      log,
      observer: {
        pushed: (result, seconds, proxy) => {
          o.metrics.pushes.inc({ proxy, result });
          o.metrics.pushSeconds.observe({ proxy, result }, seconds);
        },
        proxyRemoved: (proxy) => o.metrics.forgetProxy(proxy),
        syncChanged: (inSync, total) => {
          o.metrics.proxies.set({ state: 'in_sync' }, inSync);
          o.metrics.proxies.set({ state: 'total' }, total);
          controller?.proxiesChanged();
        },
      },
    });
    secretReader = new SecretReader(client, {
      refreshMs: o.resyncIntervalMs ?? 10_000,
      onChange: changed,
      clock,
      log,
    });
    controller = new SwitchyardController({
      client,
      cache: {
        backends: () => backends.list(),
        pools: () => pools.list(),
        policies: () => policies.list(),
        services: () => services.list(),
        slices: () => slices.list(),
        get: (kind, key) => crInformers[kind].get(key),
      },
      queue,
      pusher,
      secrets: secretReader,
      events: new EventRecorder(client, 'switchyard-operator', log),
      metrics: o.metrics,
      clock,
      log,
    });
    const c = controller;
    void synced.then(() => {
      refreshTargets();
      queue.add(SNAPSHOT_KEY);
      void queue.run(
        (key) => c.reconcile(key),
        o.workers ?? 2,
        (key, err) => log.warn({ key, err: String(err) }, 'reconcile failed; retrying with backoff'),
      );
    });
  };

  const elector = o.leaderElection
    ? new LeaderElector(client, {
        ...o.leaderElection,
        clock,
        log,
        onStartedLeading: startLeading,
        onStoppedLeading: () => {
          leading = false;
          o.metrics.leader.set(0);
          queue.shutDown();
          pusher?.stop();
          secretReader?.stop();
          o.onLostLeadership?.();
        },
      })
    : undefined;
  if (elector) elector.start();
  else startLeading();

  return {
    client,
    synced,
    isLeader: () => leading,
    controller: () => controller,
    pusher: () => pusher,
    async stop() {
      queue.shutDown();
      pusher?.stop();
      secretReader?.stop();
      for (const inf of all) inf.stop();
      await elector?.release();
      leading = false;
      o.metrics.leader.set(0);
    },
  };
}
