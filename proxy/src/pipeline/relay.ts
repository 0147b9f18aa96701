/**
 * Zero-buffer stream relay: each upstream chunk is translated and written as it arrives; a slow client pauses the
 * upstream (backpressure); a client that leaves aborts it (freeing the GPU slot). The response head is sent only
 * with the first translated bytes, so failures before that can still be retried.
 */

import { errors, GatewayError } from '../errors.js';
import type { StreamTranslator } from '../providers/types.js';
import type { AttemptAbort } from '../upstream/abort.js';
import type { UpstreamResponse } from '../upstream/send.js';
import { classifyTransportError } from '../upstream/send.js';
import type { AttemptTimers } from './timers.js';
import type { AttemptOutcome, ProxyCall } from './types.js';

export interface RelayOptions {
  res: UpstreamResponse;
  translator: StreamTranslator;
  call: ProxyCall;
  timers: AttemptTimers;
  controller: AttemptAbort;
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
    const commit = () => {
      committed = true;
      sink.writeHead(200, o.commitHeaders());
    };
    const settle = (outcome: AttemptOutcome) => {
      if (settled) return;
      settled = true;
      body.off('data', onData);
      resolve(outcome);
    };
    const fail = (error: GatewayError, cause: 'timeout' | 'connect-failure' | '5xx') => {
      body.destroy();
      if (!committed) return settle({ kind: 'retry', error, cause });
      if (!sink.closed) sink.end(call.surface.streamError(error));
      settle({ kind: 'done', usage: translator.usage(), streamError: error, incomplete: true });
    };
    const onData = (chunk: Buffer) => {
      if (!firstByte) {
        firstByte = true;
        timers.firstByteSeen();
        o.onFirstByte();
      } else timers.touch();
      let out: string;
      try {
        out = translator.push(chunk);
      } catch (e) {
        return fail(e instanceof GatewayError ? e : errors.badGateway('could not translate upstream stream'), '5xx');
      }
      if (out.length === 0) return;
      if (!committed) commit();
      if (!sink.write(out)) {
        body.pause();
        sink.onceDrain(() => body.resume());
      }
    };
    body.on('data', onData);
    body.once('end', () => {
      const tail = translator.end();
      if (tail instanceof GatewayError) return fail(tail, '5xx');
      if (!committed) commit();
      sink.end(tail);
      settle({ kind: 'done', usage: translator.usage() });
    });
    body.once('error', (e) => {
      if (sink.closed && !committed) return settle({ kind: 'done', incomplete: true });
      const t = classifyTransportError(e, controller);
      if (t.failure === 'aborted') {
        // The client went away: the upstream request is already aborted.
        if (!sink.closed) sink.end();
        return settle({ kind: 'done', usage: translator.usage(), incomplete: true });
      }
      const message =
        t.failure === 'timeout' ? `upstream timeout: ${t.message}` : `upstream stream failed: ${t.message}`;
      fail(
        t.failure === 'timeout' ? errors.timeout(message) : errors.badGateway(message, 'upstream_stream_error'),
        t.failure === 'timeout' ? 'timeout' : 'connect-failure',
      );
    });
  });
}
