/**
 * Operator metrics (prom-client, own registry): reconciles and queue wait by controller, queue depth, translation,
 * pushes per proxy pod, proxies in sync. Label values are bounded: `controller` by the key kinds (controllerOf),
 * `proxy` by the proxy pods currently targeted (a pod's series are removed when it leaves, forgetProxy).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Results of one push, as the `result` label of the push metrics. */
export const PUSH_RESULTS = ['ok', 'rejected', 'error'] as const;

/** All operator metrics on one registry. */
export function createOperatorMetrics() {
  const registry = new Registry();
  const reconciles = new Counter({
    name: 'switchyard_operator_reconciles_total',
    help: 'Work-queue keys processed, by controller (snapshot, llmbackend, llmpool, routepolicy) and result (ok, error).',
    labelNames: ['controller', 'result'] as const,
    registers: [registry],
  });
  const queueDepth = new Gauge({
    name: 'switchyard_operator_queue_depth',
    help: 'Keys waiting in the work queue.',
    registers: [registry],
  });
  const queueWaitSeconds = new Histogram({
    name: 'switchyard_operator_queue_wait_seconds',
    help: 'Time a key waited in the work queue from being added to being handed to a worker, by controller.',
    labelNames: ['controller'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const translateSeconds = new Histogram({
    name: 'switchyard_operator_translate_duration_seconds',
    help: 'Time to rebuild and translate the snapshot from the caches.',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const pushSeconds = new Histogram({
    name: 'switchyard_operator_push_duration_seconds',
    help: 'Duration of one snapshot PUT to one proxy, by proxy pod and result.',
    labelNames: ['proxy', 'result'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const pushes = new Counter({
    name: 'switchyard_operator_pushes_total',
    help: 'Snapshot PUTs to proxies, by proxy pod and result (ok, rejected, error).',
    labelNames: ['proxy', 'result'] as const,
    registers: [registry],
  });
  const proxies = new Gauge({
    name: 'switchyard_operator_proxies',
    help: 'Proxies known (state=total) and serving the current snapshot (state=in_sync).',
    labelNames: ['state'] as const,
    registers: [registry],
  });
  const leader = new Gauge({
    name: 'switchyard_operator_leader',
    help: '1 while this replica holds the leader Lease.',
    registers: [registry],
  });
  const statusWrites = new Counter({
    name: 'switchyard_operator_status_writes_total',
    help: 'Status subresource writes, by kind.',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  /** Removes every series of a proxy pod that is no longer pushed to. */
  const forgetProxy = (proxy: string): void => {
    for (const result of PUSH_RESULTS) {
      pushes.remove({ proxy, result });
      pushSeconds.remove({ proxy, result });
    }
  };
  return {
    registry,
    reconciles,
    queueDepth,
    queueWaitSeconds,
    translateSeconds,
    pushSeconds,
    pushes,
    proxies,
    leader,
    statusWrites,
    forgetProxy,
  };
}

export type OperatorMetrics = ReturnType<typeof createOperatorMetrics>;
