/**
 * Zero-buffer stream relay: each upstream chunk is translated and written as it arrives; a slow client pauses the
 * upstream (backpressure) and, while paused, the idle timer stops (a client that does not read is not a replica that
 * does not answer); a client that leaves aborts it (freeing the GPU slot). The response head is sent only with the
 * first translated bytes, so failures before that can still be retried.
 *
 * Fault isolation: every listener on the upstream body and the drain callback run through `guard`, so an exception
 * anywhere in translation (decoders, encoders' `finish()`, sinks) fails this attempt — retried before the first byte,
 * the stream's (or else the surface's) error event after it — and never escapes to the event loop. A stream that ends without
 * a single byte for the client is an upstream failure too: never an empty 2xx.
 */

import type { Logger } from 'pino';
import type { Clock } from '../../../shared/src/clock.js';
import type { AuthorizedCall } from '../call/call.js';
import type { AttemptOutcome, FailureCause } from '../call/outcome.js';
import { errors, GatewayError } from '../errors.js';
import { ERROR_SHAPES } from '../protocols/clients.js';
import type { StreamTranslator } from '../protocols/types.js';
import type { AttemptAbort } from '../upstream/abort.js';
import type { UpstreamResponse } from '../upstream/send.js';
import { classifyTransportError } from '../upstream/send.js';
import { asUpstreamError, failureCauseOf } from './failure.js';
import type { AttemptTimers } from './timers.js';

/**
 * After its end marker an upstream's response normally ends at once (the last chunk of its chunked body). Up to this
 * much more is read and discarded, for up to AFTER_END_MS, so that its keep-alive connection goes back to the pool;
 * an upstream that sends more or does not end by then has its connection closed.
 */
export const AFTER_END_BYTES = 64 * 1024;
export const AFTER_END_MS = 1000;

export interface RelayOptions {
  res: UpstreamResponse;
  clock: Clock;
  translator: StreamTranslator;
  call: AuthorizedCall;
  timers: AttemptTimers;
  controller: AttemptAbort;
  log: Logger;
  onFirstByte(): void;
  commitHeaders(): Record<string, string>;
}

export function relayStream(o: RelayOptions): Promise<AttemptOutcome> {
  const { res, translator, call, timers, controller } = o;
  const sink = call.sink;
  const body = res.body;
  return new Promise<AttemptOutcome>((resolve) => {
    let committed = false;
    let firstByte = false;
    let settled = false;
    const usage = () => {
      try {
        return translator.usage();
      } catch {
        return undefined;
      }
    };
    const settle = (outcome: AttemptOutcome) => {
      if (settled) return;
      settled = true;
      body.off('data', onData);
      resolve(outcome);
    };
    /** Ends the attempt with `error`: retryable before the head was sent, the surface's error event after it. */
    const fail = (error: GatewayError, cause: FailureCause) => {
      if (settled) return;
      body.destroy();
      if (!committed) return settle({ kind: 'retry', error, cause });
      try {
        if (!sink.closed) sink.end(translator.errorEvent?.(error) ?? ERROR_SHAPES[call.surface].streamError(error));
      } catch {
        // The client connection failed while writing the error event: nothing more can reach it.
      }
      settle({ kind: 'done', usage: usage(), streamError: error, incomplete: true });
    };
    /** Runs a callback of the stream; an exception fails this attempt instead of reaching the event loop. */
    const guard =
      <A extends unknown[]>(fn: (...args: A) => void) =>
      (...args: A): void => {
        if (settled) return;
        try {
          fn(...args);
        } catch (e) {
          if (!(e instanceof GatewayError))
            o.log.warn({ err: e, requestId: call.record.id }, 'upstream stream could not be translated');
          const error = asUpstreamError(e, 'could not translate the upstream stream');
          fail(error, failureCauseOf(error));
        }
      };
    const commit = () => {
      committed = true;
      sink.writeHead(200, o.commitHeaders());
    };
    const resume = guard(() => {
      timers.clientResumed();
      body.resume();
    });
    /**
     * The end marker arrived and the client's answer is complete: what the upstream still sends is read and
     * discarded within AFTER_END_BYTES and AFTER_END_MS, never relayed; past them its connection is closed (closing
     * it at once would cost every stream a new upstream connection).
     */
    const drainAfterEnd = () => {
      if (body.destroyed || body.readableEnded) return;
      let extra = 0;
      const timer = o.clock.after(AFTER_END_MS, () => body.destroy(), { unref: true });
      body.once('close', () => timer.cancel()); // after 'end' too: undici's bodies destroy themselves when ended
      body.on('data', (chunk: Buffer) => {
        extra += chunk.length;
        if (extra > AFTER_END_BYTES) body.destroy();
      });
      body.resume();
    };
    /** The stream is over (the upstream ended it, or its end marker arrived): the client's stream ends too. */
    const finish = () => {
      const tail = translator.end();
      if (typeof tail !== 'string') return fail(tail, failureCauseOf(tail));
      if (!committed && tail.length === 0)
        return fail(errors.badGateway('upstream ended the stream without an answer', 'upstream_empty_stream'), '5xx');
      if (!committed) commit();
      sink.end(tail);
      settle({ kind: 'done', usage: usage() });
    };
    const onData = guard((chunk: Buffer) => {
      if (!firstByte) {
        firstByte = true;
        timers.firstByteSeen();
        o.onFirstByte();
      } else timers.touch();
      const out = translator.push(chunk);
      if (out.length > 0) {
        if (!committed) commit();
        if (!sink.write(out) && !translator.complete()) {
          body.pause();
          timers.clientPaused();
          sink.onceDrain(resume);
        }
      }
      if (translator.complete()) {
        // Whatever the upstream sends after its end marker is not part of the answer, and it need not close the
        // connection for the client's answer to be complete.
        finish();
        drainAfterEnd();
      }
    });
    body.on('data', onData);
    body.once('end', guard(finish));
    // Stays attached after the attempt settled: destroying an unfinished undici body emits 'error' later.
    body.on(
      'error',
      guard((e: Error) => {
        const t = classifyTransportError(e, controller);
        if (t.failure === 'aborted' || (sink.closed && !committed)) {
          // The client went away (the upstream request is already aborted), or stopped reading for longer than the
          // idle limit: its connection is closed, and nothing counts against the replica.
          if (!sink.closed) sink.destroy();
          return settle({ kind: 'done', usage: usage(), incomplete: true, clientCaused: true });
        }
        const message =
          t.failure === 'timeout' ? `upstream timeout: ${t.message}` : `upstream stream failed: ${t.message}`;
        fail(
          t.failure === 'timeout' ? errors.timeout(message) : errors.badGateway(message, 'upstream_stream_error'),
          t.failure === 'timeout' ? 'timeout' : 'connect-failure',
        );
      }),
    );
  });
}
