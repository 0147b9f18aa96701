/**
 * A span exporter created on first use from an async factory, so exporters with heavy dependencies (OTLP/gRPC
 * loads @grpc/grpc-js) cost nothing unless tracing is configured to use them.
 */
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

export class LazySpanExporter implements SpanExporter {
  private exporter: Promise<SpanExporter> | undefined;

  constructor(private readonly create: () => Promise<SpanExporter>) {}

  private get(): Promise<SpanExporter> {
    this.exporter ??= this.create();
    return this.exporter;
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.get().then(
      (e) => e.export(spans, done),
      (error: Error) => done({ code: ExportResultCode.FAILED, error }),
    );
  }

  async shutdown(): Promise<void> {
    if (this.exporter) await (await this.exporter).shutdown();
  }

  async forceFlush(): Promise<void> {
    if (this.exporter) await (await this.exporter).forceFlush?.();
  }
}
