/**
 * Native Anthropic SSE relay for Anthropic clients: every event is forwarded as it arrives (only `message_start` is
 * rewritten, to report the public model name), every event's data must be a JSON object (`ping` included: a
 * malformed one is an upstream protocol error, never relayed), usage is read from `message_start`/`message_delta`, an `error`
 * event is thrown (the surface writes it back as its own error event), and a stream without `message_stop` is
 * reported as incomplete. One instance per request.
 */
import { GatewayError } from '../../errors.js';
import { SseSplitter } from '../../http/sse.js';
import type { Usage } from '../canonical/usage.js';
import { incompleteStream, isRecord, type Json, parseStreamEvent } from '../common/json.js';
import { scrubSecrets, upstreamCode } from '../common/secrets.js';
import type { AttemptContext, StreamTranslator } from '../types.js';
import { streamWithoutStart, usageFromAnthropic } from './mapping.js';

const record = (v: unknown): Json => (isRecord(v) ? v : {});

export class AnthropicPassthroughStream implements StreamTranslator {
  private readonly sse: SseSplitter;
  private usageSoFar: Json | undefined;
  private stopped = false;
  private started = false;

  constructor(private readonly ctx: AttemptContext) {
    this.sse = new SseSplitter(ctx.maxEventBytes);
  }

  push(chunk: Buffer): string {
    let out = '';
    for (const ev of this.sse.push(chunk)) {
      if (this.stopped) break;
      if (ev.data === undefined) {
        out += ev.raw;
        continue;
      }
      const j = parseStreamEvent(ev.data);
      if (ev.event === 'ping') {
        out += ev.raw;
        continue;
      }
      if (j.type !== 'error' && !this.started && j.type !== 'message_start') throw streamWithoutStart();
      if (j.type === 'error') {
        const e = record(j.error);
        const overloaded = e.type === 'overloaded_error';
        throw new GatewayError(
          overloaded ? 529 : 502,
          overloaded ? 'overloaded' : 'upstream',
          scrubSecrets(e.message, this.ctx.backend.apiKey, undefined, 'upstream stream error'),
          { code: upstreamCode(e.type, 'upstream_stream_error') },
        );
      }
      if (j.type === 'message_start' && isRecord(j.message)) {
        this.started = true;
        this.usageSoFar = { ...record(j.message.usage) };
        const event = { ...j, message: { ...j.message, model: this.ctx.publicModel } };
        out += `event: message_start\ndata: ${JSON.stringify(event)}\n\n`;
        continue;
      }
      if (j.type === 'message_delta' && j.usage) this.usageSoFar = { ...this.usageSoFar, ...record(j.usage) };
      if (j.type === 'message_stop') this.stopped = true;
      out += ev.raw;
    }
    return out;
  }

  complete(): boolean {
    return this.stopped;
  }

  end(): string | GatewayError {
    return this.stopped ? '' : incompleteStream();
  }

  usage(): Usage | undefined {
    return usageFromAnthropic(this.usageSoFar);
  }
}
