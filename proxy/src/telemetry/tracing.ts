/**
 * OpenTelemetry tracing set up from the standard `OTEL_*` environment variables, off (undefined: no hooks, zero
 * cost, nothing of the SDK even loaded) unless an OTLP endpoint is configured. The SDK comes from
 * `@opentelemetry/sdk-node` (its `tracing` and `resources` exports), loaded on demand; `NodeSDK` itself is not used:
 * it registers global providers and auto-instrumentation, while each proxy app needs a private tracer provider
 * (several run in one test process) whose spans are created by traces.ts only.
 *
 * Honoured: OTEL_SDK_DISABLED, OTEL_TRACES_EXPORTER (otlp | none), OTEL_EXPORTER_OTLP_ENDPOINT,
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL (http/protobuf default, http/json, grpc),
 * OTEL_EXPORTER_OTLP_[TRACES_]HEADERS / _TIMEOUT, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
 * OTEL_TRACES_SAMPLER[_ARG], OTEL_BSP_*, OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT.
 */
import { DiagLogLevel, diag, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';

export type OtelEnv = Record<string, string | undefined>;

export interface Tracing {
  tracer: Tracer;
  propagator: W3CTraceContextPropagator;
  /** Whether prompts may be recorded on spans (OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true). */
  captureContent: boolean;
  /** Exports the spans still buffered; never rejects (an unreachable collector is logged). */
  flush(): Promise<void>;
  /** Flushes and stops exporting; never rejects. */
  shutdown(): Promise<void>;
}

/** The OTLP traces URL the environment asks for, or undefined when tracing is off (gRPC: no /v1/traces path). */
export function tracesEndpoint(env: OtelEnv, grpc = false): string | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? 'otlp').split(',').map((s) => s.trim());
  if (!exporters.includes('otlp')) return undefined;
  const specific = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (specific) return specific;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!base) return undefined;
  return grpc ? base : `${base.replace(/\/+$/, '')}/v1/traces`;
}

/** The OTLP exporter for `protocol`, loaded on demand (gRPC pulls in @grpc/grpc-js). */
async function createExporter(protocol: 'http/protobuf' | 'http/json' | 'grpc', url: string): Promise<SpanExporter> {
  if (protocol === 'http/json') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    return new OTLPTraceExporter({ url });
  }
  if (protocol === 'grpc') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-grpc');
    return new OTLPTraceExporter({ url });
  }
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
  return new OTLPTraceExporter({ url });
}

/** Tracing per `env` (default: process.env), or undefined when no OTLP endpoint is configured. */
export async function createTracing(log: Logger, env: OtelEnv = process.env): Promise<Tracing | undefined> {
  const protocol = (
    env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ??
    env.OTEL_EXPORTER_OTLP_PROTOCOL ??
    'http/protobuf'
  ).trim();
  const url = tracesEndpoint(env, protocol === 'grpc');
  if (!url) return undefined;
  if (protocol !== 'http/protobuf' && protocol !== 'http/json' && protocol !== 'grpc') {
    log.warn({ protocol }, 'unknown OTLP protocol (use http/protobuf, http/json or grpc): tracing is off');
    return undefined;
  }
  const { tracing, resources } = await import('@opentelemetry/sdk-node');
  const exporter = await createExporter(protocol, url);
  const delay = Number(env.OTEL_BSP_SCHEDULE_DELAY);
  const processor = new tracing.BatchSpanProcessor(
    exporter,
    Number.isFinite(delay) && delay > 0 ? { scheduledDelayMillis: delay } : {},
  );
  const resource = resources
    .defaultResource()
    .merge(resources.resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME?.trim() || 'switchyard-proxy' }))
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  const provider = new tracing.BasicTracerProvider({ resource, spanProcessors: [processor] });
  const exportFailed = (e: unknown) =>
    log.warn({ err: e instanceof Error ? e.message : String(e), endpoint: url }, 'OTLP trace export failed');
  // The SDK reports export failures through its diagnostics logger: route warnings and errors to ours.
  diag.setLogger(
    {
      error: (message) => log.warn({ endpoint: url }, `OpenTelemetry: ${message}`),
      warn: (message) => log.warn({ endpoint: url }, `OpenTelemetry: ${message}`),
      info: () => {},
      debug: () => {},
      verbose: () => {},
    },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
  log.info({ endpoint: url, protocol }, 'OpenTelemetry tracing on');
  return {
    tracer: provider.getTracer('switchyard-proxy'),
    propagator: new W3CTraceContextPropagator(),
    captureContent: env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT?.trim().toLowerCase() === 'true',
    flush: () => provider.forceFlush().catch(exportFailed),
    shutdown: () => provider.shutdown().catch(exportFailed),
  };
}
