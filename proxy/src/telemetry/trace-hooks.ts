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
import type { RequestState } from '../env.js';
import { GatewayError } from '../errors.js';
import type { CallMiddleware } from '../pipeline/middleware.js';
import type { PipelineHooks, ProxyCall } from '../pipeline/types.js';
import { GENAI_OPERATION, genaiProvider, inputContent, requestParamAttributes } from './genai.js';
import type { Tracing } from './tracing.js';

interface RequestSpans {
  server: Span;
  context: Context;
  attempt: Span | undefined;
  lastCause: string | undefined;
}

const headerGetter: TextMapGetter<ProxyCall> = {
  get: (call, key) => call.header(key),
  keys: () => ['traceparent', 'tracestate'],
};

export interface TraceHooks {
  middleware: CallMiddleware;
  hooks: Required<
    Pick<PipelineHooks, 'onAttemptStart' | 'onAttemptEnd' | 'onFirstByte' | 'onFallback' | 'onUpstreamRequest'>
  >;
  onRequestEnd(state: RequestState): void;
}

/** Span hooks over `tracing`. */
export function createTraceHooks(tracing: Tracing): TraceHooks {
  const { tracer, propagator } = tracing;
  const requests = new WeakMap<RequestState, RequestSpans>();

  const startServer = (state: RequestState, parent: Context, name: string): RequestSpans => {
    const server = tracer.startSpan(
      name,
      {
        kind: SpanKind.SERVER,
        startTime: state.startedAt,
        attributes: { 'switchyard.request_id': state.id, 'switchyard.surface': state.surface },
      },
      parent,
    );
    const spans: RequestSpans = {
      server,
      context: trace.setSpan(ROOT_CONTEXT, server),
      attempt: undefined,
      lastCause: undefined,
    };
    requests.set(state, spans);
    return spans;
  };

  const spansOf = (call: ProxyCall): RequestSpans => {
    const existing = requests.get(call.state);
    if (existing) return existing;
    const op = GENAI_OPERATION[call.request.operation];
    const spans = startServer(call.state, propagator.extract(ROOT_CONTEXT, call, headerGetter), `${op} ${call.model}`);
    spans.server.setAttributes({
      'gen_ai.operation.name': op,
      'gen_ai.request.model': call.model,
      'switchyard.stream': call.stream,
      ...requestParamAttributes(call.request.body),
    });
    return spans;
  };

  return {
    async middleware(call, next) {
      const spans = spansOf(call);
      try {
        await next();
      } catch (e) {
        if (e instanceof GatewayError) spans.server.setAttribute('error.type', e.code ?? e.kind);
        throw e;
      } finally {
        if (call.plan) spans.server.setAttribute('gen_ai.response.model', call.plan.publicModel);
        // The body as the upstream got it: with the route's system prompt, once a later stage applied it.
        if (tracing.captureContent) {
          const content = inputContent(call.request.body);
          if (content !== undefined) spans.server.setAttribute('gen_ai.input.messages', content);
        }
      }
    },
    hooks: {
      onAttemptStart(call, member) {
        const spans = spansOf(call);
        const ep = member.endpoint;
        const attempt = call.state.attempts;
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
              'switchyard.pool': call.state.pool ?? '',
              'switchyard.backend': ep.backend.id,
              'switchyard.endpoint': ep.id,
              'switchyard.attempt': attempt,
            },
          },
          spans.context,
        );
      },
      onUpstreamRequest(call, _member, request) {
        const span = requests.get(call.state)?.attempt;
        if (span) propagator.inject(trace.setSpan(ROOT_CONTEXT, span), request.headers, defaultTextMapSetter);
      },
      onFirstByte(call, _member, ttfbMs) {
        requests.get(call.state)?.attempt?.addEvent('first_byte', { 'switchyard.time_to_first_byte_ms': ttfbMs });
      },
      onAttemptEnd(call, member, outcome) {
        const spans = requests.get(call.state);
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
    },
    onRequestEnd(state) {
      const spans = requests.get(state) ?? startServer(state, ROOT_CONTEXT, state.surface);
      const s = spans.server;
      spans.attempt?.end();
      if (state.status !== undefined) s.setAttribute('http.response.status_code', state.status);
      s.setAttribute('switchyard.attempts', state.attempts);
      if (state.pool !== undefined) s.setAttribute('switchyard.pool', state.pool);
      if (state.endpoint !== undefined) s.setAttribute('switchyard.endpoint', state.endpoint);
      if (state.fallback !== undefined) s.setAttribute('switchyard.fallback', state.fallback);
      if (state.tenant !== undefined) s.setAttribute('switchyard.tenant', state.tenant);
      if (state.inputTokens !== undefined) s.setAttribute('gen_ai.usage.input_tokens', state.inputTokens);
      if (state.outputTokens !== undefined) s.setAttribute('gen_ai.usage.output_tokens', state.outputTokens);
      if (state.errorCode !== undefined) s.setAttribute('error.type', state.errorCode);
      if ((state.status ?? 0) >= 500 || (state.errorCode !== undefined && (state.status ?? 0) < 400))
        s.setStatus({ code: SpanStatusCode.ERROR });
      s.end();
    },
  };
}
