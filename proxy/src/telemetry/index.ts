/**
 * The proxy's telemetry: Prometheus metrics (always), the access log (unless turned off) and OpenTelemetry
 * traces (only when an OTLP endpoint is configured). `installTelemetry` wires it into the app through the
 * existing seams only: an outermost call middleware, pipeline hooks and `onRequestEnd`.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { AppDeps } from '../app.js';
import type { SnapshotStore } from '../config/store.js';
import type { RequestState } from '../env.js';
import type { Governance } from '../governance.js';
import type { CallMiddleware } from '../pipeline/middleware.js';
import type { PipelineHooks } from '../pipeline/types.js';
import { createAccessLog } from './access-log.js';
import { governanceMetrics } from './governance-metrics.js';
import { createProxyMetrics, type ProxyMetrics } from './metrics.js';
import { createMetricsRecorder } from './recorder.js';
import { RequestTracks } from './request-track.js';
import { createTraceHooks } from './trace-hooks.js';
import { createTracing, type OtelEnv, type Tracing } from './tracing.js';

export interface TelemetryOptions {
  registry: Registry;
  store: SnapshotStore;
  log: Logger;
  /** One log line per request; default true. */
  accessLog?: boolean;
  /** Where the OTEL_* variables are read from; default process.env. */
  otelEnv?: OtelEnv;
}

export interface Telemetry {
  metrics: ProxyMetrics;
  tracing: Tracing | undefined;
  middleware: CallMiddleware;
  hooks: PipelineHooks;
  onRequestEnd(state: RequestState): void;
  /** Flushes and stops the trace exporter. */
  shutdown(): Promise<void>;
}

type HookName = keyof PipelineHooks;

/** Hooks that call `a`'s then `b`'s observer for every event either has. */
export function combineHooks(a: PipelineHooks | undefined, b: PipelineHooks): PipelineHooks {
  if (!a) return b;
  const out: PipelineHooks = { ...a };
  for (const name of Object.keys(b) as HookName[]) {
    const first = a[name] as ((...args: unknown[]) => void) | undefined;
    const second = b[name] as ((...args: unknown[]) => void) | undefined;
    if (!second) continue;
    (out as Record<HookName, unknown>)[name] = first
      ? (...args: unknown[]) => {
          first.apply(a, args);
          second.apply(b, args);
        }
      : second;
  }
  return out;
}

/** Builds metrics, access log and (per OTEL_* env) tracing. */
export async function createTelemetry(opts: TelemetryOptions): Promise<Telemetry> {
  const metrics = createProxyMetrics(opts.registry, opts.store);
  const tracks = new RequestTracks();
  const recorder = createMetricsRecorder(metrics, tracks, () => opts.store.current);
  const accessLog = opts.accessLog === false ? undefined : createAccessLog(opts.log);
  const tracing = await createTracing(opts.log, opts.otelEnv);
  const traces = tracing ? createTraceHooks(tracing) : undefined;

  const measure: CallMiddleware = async function measureCall(call, next) {
    tracks.begin(call.state);
    metrics.inFlight(1);
    try {
      await next();
    } finally {
      metrics.inFlight(-1);
    }
  };
  const middleware: CallMiddleware = traces
    ? async function telemetry(call, next) {
        await measure(call, () => traces.middleware(call, next));
      }
    : measure;

  return {
    metrics,
    tracing,
    middleware,
    hooks: traces ? combineHooks(recorder.hooks, traces.hooks) : recorder.hooks,
    onRequestEnd(state) {
      recorder.onRequestEnd(state);
      accessLog?.(state, tracks.peek(state));
      traces?.onRequestEnd(state);
    },
    shutdown: async () => {
      await tracing?.shutdown();
    },
  };
}

/** Adds `t` to the app dependencies, around whatever stages and observers are already there. */
export function installTelemetry(
  deps: AppDeps & { governance?: Pick<Governance, 'addHooks' | 'stats'> },
  t: Telemetry,
): void {
  const governance = deps.governance;
  if (governance) {
    governance.addHooks(governanceMetrics(t.metrics));
    t.metrics.setRedisSource(() => governance.stats().redis);
  }
  deps.callMiddleware = [t.middleware, ...(deps.callMiddleware ?? [])];
  deps.hooks = combineHooks(deps.hooks, t.hooks);
  const previous = deps.onRequestEnd;
  deps.onRequestEnd = previous
    ? (state) => {
        previous(state);
        t.onRequestEnd(state);
      }
    : t.onRequestEnd;
}
