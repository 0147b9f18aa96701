/** OpenAI chat-completion SSE: decoder (upstream → chunks) and encoder (chunks → OpenAI client). */
import { GatewayError } from '../errors.js';
import { SseSplitter } from '../http/sse.js';
import { scrubSecrets } from '../providers/secrets.js';
import type { Usage } from '../providers/types.js';
import { badUpstream, emptyStream, neutralUsage, parseStreamEvent } from './common.js';
import type { ChatChunk } from './openai-types.js';
import type { ChunkDecoder, ChunkEncoder } from './stream.js';

/**
 * Decodes an OpenAI-protocol upstream stream; `scrub` removes secrets from upstream error messages; an event larger
 * than `maxEventBytes` (0: no limit) fails the stream.
 */
export class OpenAIChunkDecoder implements ChunkDecoder {
  private readonly sse: SseSplitter;
  private done = false;
  private finished = false;
  private sawChunk = false;
  private seenUsage: Usage | undefined;

  constructor(
    private readonly scrub: (message: unknown) => string = (m) => scrubSecrets(m),
    maxEventBytes = 0,
  ) {
    this.sse = new SseSplitter(maxEventBytes);
  }

  push(chunk: Buffer): ChatChunk[] {
    const out: ChatChunk[] = [];
    for (const ev of this.sse.push(chunk)) {
      if (this.done) break;
      if (ev.data === undefined) continue;
      if (ev.data === '[DONE]') {
        if (!this.sawChunk) throw emptyStream();
        this.done = true;
        continue;
      }
      const j = parseStreamEvent(ev.data) as unknown as ChatChunk & { error?: { message?: unknown } };
      if (j.error !== undefined) {
        const msg = typeof j.error?.message === 'string' ? j.error.message : 'upstream reported an error mid-stream';
        throw new GatewayError(502, 'upstream', this.scrub(msg), { code: 'upstream_stream_error' });
      }
      this.sawChunk = true;
      if (j.usage) this.seenUsage = neutralUsage(j.usage);
      if (!Array.isArray(j.choices)) j.choices = [];
      if (j.choices.some((c) => c.finish_reason)) this.finished = true;
      out.push(j);
    }
    return out;
  }

  complete(): boolean {
    return this.done;
  }

  end(): GatewayError | undefined {
    if (this.done || this.finished) return undefined;
    return badUpstream('upstream closed the stream before it completed', 'upstream_stream_incomplete');
  }

  usage(): Usage | undefined {
    return this.seenUsage;
  }
}

/** Encodes chunks as OpenAI SSE for an OpenAI client: public model name, usage chunk only when asked for. */
export class OpenAIChunkEncoder implements ChunkEncoder {
  constructor(
    private readonly model: string,
    private readonly includeUsage: boolean,
  ) {}

  encode(chunk: ChatChunk): string {
    if (chunk.choices.length === 0 && chunk.usage && !this.includeUsage) return '';
    const c: ChatChunk = { ...chunk, model: this.model };
    delete c.stop_sequence;
    if (!this.includeUsage) delete c.usage;
    else if (c.usage === undefined) c.usage = null;
    return `data: ${JSON.stringify(c)}\n\n`;
  }

  finish(): string {
    return 'data: [DONE]\n\n';
  }
}
