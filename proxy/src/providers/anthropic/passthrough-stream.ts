/**
 * Native Anthropic SSE relay for Anthropic clients: every event is forwarded as it arrives (only `message_start` is
 * rewritten, to report the public model name), usage is read from `message_start`/`message_delta`, an `error`
 * event is thrown (the surface writes it back as its own error event), and a stream without `message_stop` is
 * reported as incomplete. One instance per request.
 */
import { GatewayError } from '../../errors.js';
import { SseSplitter } from '../../http/sse.js';
import { streamWithoutStart, usageFromAnthropic } from '../../translation/anthropic-mapping.js';
import type { AnthropicUsage } from '../../translation/anthropic-types.js';
import { badUpstream, parseStreamEvent } from '../../translation/common.js';
import { scrubSecrets, upstreamCode } from '../secrets.js';
import type { AdapterContext, StreamTranslator, Usage } from '../types.js';

interface EventData {
  type?: string;
  message?: { model?: string; usage?: Partial<AnthropicUsage> };
  usage?: Partial<AnthropicUsage>;
  error?: { type?: string; message?: string };
}

export class AnthropicPassthroughStream implements StreamTranslator {
  private readonly sse: SseSplitter;
  private usageSoFar: Partial<AnthropicUsage> | undefined;
  private stopped = false;
  private started = false;

  constructor(private readonly ctx: AdapterContext) {
    this.sse = new SseSplitter(ctx.maxEventBytes);
  }

  push(chunk: Buffer): string {
    let out = '';
    for (const ev of this.sse.push(chunk)) {
      if (this.stopped) break;
      if (ev.data === undefined || ev.event === 'ping') {
        out += ev.raw;
        continue;
      }
      const j = parseStreamEvent(ev.data) as EventData;
      if (j.type !== 'error' && !this.started && j.type !== 'message_start') throw streamWithoutStart();
      if (j.type === 'error') {
        const e = j.error ?? {};
        const overloaded = e.type === 'overloaded_error';
        throw new GatewayError(
          overloaded ? 529 : 502,
          overloaded ? 'overloaded' : 'upstream',
          scrubSecrets(e.message, this.ctx.backend.apiKey, undefined, 'upstream stream error'),
          { code: upstreamCode(e.type, 'upstream_stream_error') },
        );
      }
      if (j.type === 'message_start' && j.message) {
        this.started = true;
        this.usageSoFar = { ...j.message.usage };
        j.message.model = this.ctx.publicModel;
        out += `event: message_start\ndata: ${JSON.stringify(j)}\n\n`;
        continue;
      }
      if (j.type === 'message_delta' && j.usage) this.usageSoFar = { ...this.usageSoFar, ...j.usage };
      if (j.type === 'message_stop') this.stopped = true;
      out += ev.raw;
    }
    return out;
  }

  complete(): boolean {
    return this.stopped;
  }

  end(): string | GatewayError {
    return this.stopped
      ? ''
      : badUpstream('upstream closed the stream before it completed', 'upstream_stream_incomplete');
  }

  usage(): Usage | undefined {
    return usageFromAnthropic(this.usageSoFar);
  }
}
