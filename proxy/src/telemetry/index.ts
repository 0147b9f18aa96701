/**
 * The proxy's telemetry: Prometheus metrics (always), the access log (unless turned off) and OpenTelemetry traces
 * (only when an OTLP endpoint is configured), each an observer of the request path (call/observers.ts). Observer
 * failures are counted in `switchyard_observer_failures_total`.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock } from '../../../shared/src/clock.js';
import type { CallObserver, Observers } from '../call/observers.js';
import type { SnapshotStore } from '../config/store.js';
import { accessLogObserver } from './access-log.js';
import { governanceMetrics } from './governance-metrics.js';
import { createProxyMetrics, type ProxyMetrics } from './metrics.js';
import { metricsObserver } from './recorder.js';
import { traceObserver } from './traces.js';
import { createTracing, type OtelEnv, type Tracing } from './tracing.js';

export interface TelemetryOptions {
  registry: Registry;
  store: SnapshotStore;
  log: Logger;
  /** One log line per request; default true. */
  accessLog?: boolean;
  /** Where the OTEL_* variables are read from; default process.env. */
  otelEnv?: OtelEnv;
  /** The clock requests start on and endpoints keep their state on (default: the system clock). */
  clock?: Clock;
}

export interface Telemetry {
  metrics: ProxyMetrics;
  tracing: Tracing | undefined;
  /** The observers, in the order they are told: metrics, access log, traces. */
  observers: CallObserver[];
  /** Flushes and stops the trace exporter. */
  shutdown(): Promise<void>;
}

/** Builds metrics, access log and (per OTEL_* env) tracing. */
export async function createTelemetry(opts: TelemetryOptions): Promise<Telemetry> {
  const metrics = createProxyMetrics(opts.registry, opts.store, opts.clock);
  const tracing = await createTracing(opts.log, opts.otelEnv);
  const observers: CallObserver[] = [
    metricsObserver(metrics, () => opts.store.current, opts.clock),
    governanceMetrics(metrics),
    ...(opts.accessLog === false ? [] : [accessLogObserver(opts.log, opts.clock)]),
    ...(tracing ? [traceObserver(tracing)] : []),
  ];
  return {
    metrics,
    tracing,
    observers,
    shutdown: async () => {
      await tracing?.shutdown();
    },
  };
}

/** Adds `t`'s observers to `observers` and counts observer failures in its metrics. */
export function installTelemetry(observers: Observers, t: Telemetry): void {
  for (const o of t.observers) observers.add(o);
  observers.countFailures((event) => t.metrics.observerFailures.child(event).inc());
}
