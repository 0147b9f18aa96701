/**
 * Spans: one SERVER span per client request (child of the caller's `traceparent` when it sent one) and one
 * CLIENT span per upstream attempt, child of it, whose context is sent upstream as W3C `traceparent`. Retries
 * and fallbacks are events on the server span. Attributes follow the GenAI semantic conventions; prompt text
 * is recorded only when content capture is enabled, completion text never.
 */
import {
  type Context,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  trace,
} from '@opentelemetry/api';
import type { Call } from '../call/call.js';
import type { CallObserver } from '../call/observers.js';
import type { CallRecord } from '../call/record.js';
import { GENAI_OPERATION, genaiProvider, inputContent, requestParamAttributes } from './genai.js';
import type { Tracing } from './tracing.js';

interface RequestSpans {
  server: Span;
  context: Context;
  attempt: Span | undefined;
  lastCause: string | undefined;
}

const headerGetter: TextMapGetter<Call> = {
  get: (call, key) => call.header(key),
  keys: () => ['traceparent', 'tracestate'],
};

/** The observer writing spans over `tracing`. */
export function traceObserver(tracing: Tracing): CallObserver {
  const { tracer, propagator } = tracing;
  /**
   * The spans of the requests in flight, the observer's own per-request state: keyed by the request's record, so
   * they go with it.
   */
  const requests = new WeakMap<CallRecord, RequestSpans>();

  const startServer = (record: CallRecord, parent: Context, name: string): RequestSpans => {
    const server = tracer.startSpan(
      name,
      {
        kind: SpanKind.SERVER,
        startTime: record.startedAt,
        attributes: { 'switchyard.request_id': record.id, 'switchyard.surface': record.surface },
      },
      parent,
    );
    const spans: RequestSpans = {
      server,
      context: trace.setSpan(ROOT_CONTEXT, server),
      attempt: undefined,
      lastCause: undefined,
    };
    requests.set(record, spans);
    return spans;
  };

  const spansOf = (call: Call): RequestSpans => {
    const existing = requests.get(call.record);
    if (existing) return existing;
    const op = GENAI_OPERATION[call.request.operation];
    const spans = startServer(call.record, propagator.extract(ROOT_CONTEXT, call, headerGetter), `${op} ${call.model}`);
    spans.server.setAttributes({
      'gen_ai.operation.name': op,
      'gen_ai.request.model': call.model,
      'switchyard.stream': call.stream,
      ...requestParamAttributes(call.request.body),
    });
    return spans;
  };

  return {
    onCallStart(call) {
      spansOf(call);
    },
    onAnswering(call) {
      const spans = spansOf(call);
      spans.server.setAttribute('gen_ai.response.model', call.route.publicModel);
      // The body as the upstream gets it: with the route's system prompt and the guardrails' masks.
      if (tracing.captureContent) {
        const content = inputContent(call.request.body);
        if (content !== undefined) spans.server.setAttribute('gen_ai.input.messages', content);
      }
    },
    onAttemptStart(call, member) {
      const spans = spansOf(call);
      const ep = member.endpoint;
      const attempt = call.record.upstream.attempts;
      if (attempt > 1)
        spans.server.addEvent('retry', {
          'switchyard.attempt': attempt,
          'switchyard.retry.cause': spans.lastCause ?? 'other',
          'switchyard.endpoint': ep.id,
        });
      const op = GENAI_OPERATION[call.request.operation];
      const url = new URL(ep.origin);
      spans.attempt = tracer.startSpan(
        `${op} ${member.target.upstreamModel}`,
        {
          kind: SpanKind.CLIENT,
          attributes: {
            'gen_ai.operation.name': op,
            'gen_ai.provider.name': genaiProvider(ep.backend.provider),
            'gen_ai.request.model': member.target.upstreamModel,
            'server.address': url.hostname,
            'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
            'switchyard.pool': call.record.upstream.pool ?? '',
            'switchyard.backend': ep.backend.id,
            'switchyard.endpoint': ep.id,
            'switchyard.attempt': attempt,
          },
        },
        spans.context,
      );
    },
    onUpstreamRequest(call, _member, request) {
      const span = requests.get(call.record)?.attempt;
      if (span) propagator.inject(trace.setSpan(ROOT_CONTEXT, span), request.headers, defaultTextMapSetter);
    },
    onFirstByte(call, _member, ttfbMs) {
      requests.get(call.record)?.attempt?.addEvent('first_byte', { 'switchyard.time_to_first_byte_ms': ttfbMs });
    },
    onAttemptEnd(call, member, outcome) {
      const spans = requests.get(call.record);
      const span = spans?.attempt;
      if (!spans || !span) return;
      spans.attempt = undefined;
      if (outcome.kind === 'done') {
        span.setAttribute('gen_ai.response.model', member.target.upstreamModel);
        if (outcome.usage)
          span.setAttributes({
            'gen_ai.usage.input_tokens': outcome.usage.inputTokens,
            'gen_ai.usage.output_tokens': outcome.usage.outputTokens,
          });
        if (outcome.streamError) {
          span.setAttribute('error.type', outcome.streamError.code ?? 'stream_error');
          span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.streamError.message });
        }
      } else {
        if (outcome.kind === 'retry') spans.lastCause = outcome.cause;
        span.setAttribute(
          'error.type',
          outcome.error.code ?? (outcome.kind === 'retry' ? outcome.cause : outcome.error.kind),
        );
        span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error.message });
      }
      span.end();
    },
    onFallback(call, from, to) {
      spansOf(call).server.addEvent('fallback', { 'switchyard.fallback.from': from, 'switchyard.fallback.to': to });
    },
    onRequestEnd(r, record) {
      const spans = requests.get(record) ?? startServer(record, ROOT_CONTEXT, r.surface);
      const s = spans.server;
      spans.attempt?.end();
      if (r.status !== undefined) s.setAttribute('http.response.status_code', r.status);
      s.setAttribute('switchyard.attempts', r.attempts);
      if (r.pool !== undefined) s.setAttribute('switchyard.pool', r.pool);
      if (r.endpoint !== undefined) s.setAttribute('switchyard.endpoint', r.endpoint);
      if (r.fallback !== undefined) s.setAttribute('switchyard.fallback', r.fallback);
      if (r.tenant !== undefined) s.setAttribute('switchyard.tenant', r.tenant);
      if (r.inputTokens !== undefined) s.setAttribute('gen_ai.usage.input_tokens', r.inputTokens);
      if (r.outputTokens !== undefined) s.setAttribute('gen_ai.usage.output_tokens', r.outputTokens);
      if (r.errorCode !== undefined) s.setAttribute('error.type', r.errorCode);
      if ((r.status ?? 0) >= 500 || (r.errorCode !== undefined && (r.status ?? 0) < 400))
        s.setStatus({ code: SpanStatusCode.ERROR });
      s.end();
    },
  };
}
