import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createTracing, tracesEndpoint } from './tracing.js';

const log = pino({ level: 'silent' });

describe('tracesEndpoint', () => {
  it('is off without an endpoint, when disabled, or when the exporter is not otlp', () => {
    expect(tracesEndpoint({})).toBeUndefined();
    expect(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
    expect(
      tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }),
    ).toBeUndefined();
  });

  it('appends /v1/traces to the base endpoint and takes the traces endpoint as is', () => {
    expect(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' })).toBe('http://c:4318/v1/traces');
    expect(
      tracesEndpoint({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t/x',
      }),
    ).toBe('http://t/x');
    expect(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317' }, true)).toBe('http://c:4317');
  });
});

describe('createTracing', () => {
  it('returns nothing (zero cost) when tracing is not configured or the protocol is unknown', async () => {
    expect(await createTracing(log, {})).toBeUndefined();
    expect(
      await createTracing(log, {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'carrier-pigeon',
      }),
    ).toBeUndefined();
  });

  it.each(['http/protobuf', 'http/json', 'grpc'])('builds a tracer for %s', async (protocol) => {
    const t = await createTracing(log, {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1',
      OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
    });
    expect(t).toBeDefined();
    const span = t?.tracer.startSpan('x');
    expect(span?.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
    await t?.shutdown();
  });
});

describe('an unreachable collector', () => {
  it('is logged, never thrown, also at shutdown', async () => {
    const warnings: string[] = [];
    const warnLog = pino({ level: 'warn' }, { write: (l: string) => warnings.push(l) });
    const t = await createTracing(warnLog, {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1',
      OTEL_EXPORTER_OTLP_TIMEOUT: '500',
    });
    for (let i = 0; i < 1000; i++) t?.tracer.startSpan(`s${i}`).end();
    await expect(t?.flush()).resolves.toBeUndefined();
    await expect(t?.shutdown()).resolves.toBeUndefined();
    expect(warnings.join('')).toContain('127.0.0.1:1');
  });
});
