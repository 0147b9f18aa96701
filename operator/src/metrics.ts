/** Operator metrics (prom-client, own registry): reconciles, queue depth, translation, pushes, proxies in sync. */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** All operator metrics on one registry. */
export function createOperatorMetrics() {
  const registry = new Registry();
  const reconciles = new Counter({
    name: 'switchyard_operator_reconciles_total',
    help: 'Work-queue keys processed, by kind of key and result.',
    labelNames: ['key', 'result'] as const,
    registers: [registry],
  });
  const queueDepth = new Gauge({
    name: 'switchyard_operator_queue_depth',
    help: 'Keys waiting in the work queue.',
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
    help: 'Duration of one snapshot PUT to one proxy, by result.',
    labelNames: ['result'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const pushes = new Counter({
    name: 'switchyard_operator_pushes_total',
    help: 'Snapshot PUTs to proxies, by result (ok, rejected, error).',
    labelNames: ['result'] as const,
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
  return { registry, reconciles, queueDepth, translateSeconds, pushSeconds, pushes, proxies, leader, statusWrites };
}

export type OperatorMetrics = ReturnType<typeof createOperatorMetrics>;
