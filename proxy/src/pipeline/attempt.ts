/**
 * One upstream attempt: send, classify the answer, and relay it to the client. Until the first byte of the
 * answer is written to the client every failure is retryable; after it, a failure ends the stream with the
 * surface's error event and is never retried.
 */
import type { AuthorizedCall } from '../call/call.js';
import type { AttemptOutcome } from '../call/outcome.js';
import { recordLatency } from '../endpoints/latency.js';
import type { PoolMember } from '../endpoints/member.js';
import { errors, GatewayError, UPSTREAM_LOADING } from '../errors.js';
import type { BoundAdapter } from '../protocols/adapters.js';
import type { AttemptContext } from '../protocols/types.js';
import { AttemptAbort } from '../upstream/abort.js';
import { sendUpstream, UpstreamTransportError } from '../upstream/send.js';
import { responseHeaders } from './commit.js';
import { asUpstreamError, failureCauseOf } from './failure.js';
import { readUpstreamBody } from './read-body.js';
import { relayStream } from './relay.js';
import { AttemptTimers } from './timers.js';
import type { PipelineDeps } from './types.js';

const RETRYABLE_5XX = new Set([500, 502, 503, 504, 529]);

/**
 * Maps a transport failure to a retryable outcome with the error the client sees if retries run out; an abort
 * before the answer is the client leaving, which says nothing about the replica.
 */
function transportOutcome(e: UpstreamTransportError): AttemptOutcome {
  if (e.failure === 'aborted') return { kind: 'done', incomplete: true, clientCaused: true };
  if (e.failure === 'timeout')
    return { kind: 'retry', cause: 'timeout', error: errors.timeout(`upstream timeout: ${e.message}`) };
  if (e.failure === 'connect')
    return {
      kind: 'retry',
      cause: 'connect-failure',
      error: errors.badGateway(`upstream unreachable: ${e.message}`, 'upstream_unreachable'),
    };
  return { kind: 'retry', cause: 'connect-failure', error: errors.badGateway(e.message, 'upstream_connection_failed') };
}

/** The adapter's reading of an error answer; an error body it cannot read is still a plain upstream error. */
function parseUpstreamError(
  adapter: BoundAdapter,
  status: number,
  body: Buffer,
  headers: Record<string, string | string[] | undefined>,
  actx: AttemptContext,
): GatewayError {
  try {
    return adapter.parseError(status, body, headers, actx);
  } catch {
    return adapter.parseError(status, Buffer.alloc(0), {}, actx);
  }
}

/** The first byte of an answer arrived after `ttfbMs`: the endpoint's latency learns it, observers hear of it. */
function firstByte(deps: PipelineDeps, call: AuthorizedCall, member: PoolMember, ttfbMs: number): void {
  recordLatency(member.endpoint, ttfbMs, deps.clock.now());
  call.record.upstream.ttfbMs = ttfbMs;
  deps.observers.emit('onFirstByte', call, member, ttfbMs);
}

/** One attempt of `call` at `member`; never throws for what the upstream does (see the outcome). */
export async function attemptOnce(
  deps: PipelineDeps,
  call: AuthorizedCall,
  member: PoolMember,
  adapter: BoundAdapter,
  actx: AttemptContext,
  perTryTimeoutMs: number | undefined,
): Promise<AttemptOutcome> {
  const endpoint = member.endpoint;
  const t = endpoint.backend.timeouts;
  const controller = new AttemptAbort();
  // 0 disables a limit: the per-try deadline then applies alone.
  const firstByteMs =
    perTryTimeoutMs === undefined
      ? t.firstByteMs
      : t.firstByteMs === 0
        ? perTryTimeoutMs
        : Math.min(perTryTimeoutMs, t.firstByteMs);
  const timers = new AttemptTimers(controller, { firstByteMs, idleMs: t.idleMs, totalMs: t.totalMs }, deps.clock);
  const onClientGone = () => controller.abort(new UpstreamTransportError('aborted', 'client disconnected'));
  call.sink.onAbort(onClientGone);
  const started = performance.now();
  try {
    const req = adapter.buildRequest(actx);
    call.record.upstream.dropped = req.dropped;
    deps.observers.emit('onUpstreamRequest', call, member, req);
    let res: Awaited<ReturnType<typeof sendUpstream>>;
    try {
      res = await sendUpstream(deps.pools, endpoint, req, controller);
    } catch (e) {
      if (e instanceof UpstreamTransportError) return transportOutcome(e);
      throw e;
    }
    if (res.statusCode >= 300) {
      let body: Buffer;
      try {
        body = await readUpstreamBody(res.body, 65_536);
      } catch {
        body = Buffer.alloc(0);
      }
      const error = parseUpstreamError(adapter, res.statusCode, body, res.headers, actx);
      if (res.statusCode === 429) return { kind: 'retry', cause: '429', error, retryAfterMs: error.retryAfterMs };
      if (RETRYABLE_5XX.has(res.statusCode))
        return {
          kind: 'retry',
          cause: '5xx',
          error,
          retryAfterMs: error.retryAfterMs,
          ...(error.code === UPSTREAM_LOADING ? { loading: true } : {}),
        };
      return { kind: 'fatal', error };
    }
    if (!call.stream) {
      let body: Buffer;
      try {
        body = await readUpstreamBody(res.body, deps.maxResponseBytes);
      } catch (e) {
        if (e instanceof GatewayError) return { kind: 'fatal', error: e };
        return transportOutcome(
          e instanceof UpstreamTransportError
            ? e
            : new UpstreamTransportError('reset', 'upstream reset while answering'),
        );
      }
      timers.firstByteSeen(false);
      firstByte(deps, call, member, performance.now() - started);
      let translated: ReturnType<BoundAdapter['translateResponse']>;
      try {
        translated = adapter.translateResponse(body, actx);
      } catch (e) {
        // An answer that is not what the protocol promises (malformed, a shape the translator cannot read): 502.
        if (!(e instanceof GatewayError))
          deps.log.warn({ err: e, requestId: call.record.id }, 'upstream answer could not be translated');
        const error = asUpstreamError(e, 'upstream answered with a malformed body');
        return error.status >= 500 ? { kind: 'retry', cause: failureCauseOf(error), error } : { kind: 'fatal', error };
      }
      if (call.sink.closed) return { kind: 'done', clientCaused: true };
      const headers = responseHeaders(call, member, 'application/json');
      // A known length lets Node send head and body in one write instead of chunked framing.
      headers['content-length'] = String(Buffer.byteLength(translated.body));
      call.sink.writeHead(200, headers);
      call.sink.end(translated.body);
      return { kind: 'done', usage: translated.usage };
    }
    return await relayStream({
      res,
      clock: deps.clock,
      translator: adapter.createStreamTranslator(actx),
      call,
      timers,
      controller,
      log: deps.log,
      onFirstByte: () => firstByte(deps, call, member, performance.now() - started),
      commitHeaders: () => responseHeaders(call, member, adapter.streamContentType),
    });
  } finally {
    timers.clear();
  }
}
