/** OpenAI chat-completion SSE: the decoder (upstream → chunks) and the encoder (chunks → OpenAI client). */
import { GatewayError } from '../../errors.js';
import { SseSplitter } from '../../http/sse.js';
import { type ChatChunk, chatChunk } from '../canonical/chat.js';
import type { ChunkDecoder, ChunkEncoder } from '../canonical/stream.js';
import { type Usage, usageFromOpenAI } from '../canonical/usage.js';
import { badUpstream, emptyStream, incompleteStream, isRecord, parseStreamEvent } from '../common/json.js';
import { scrubSecrets } from '../common/secrets.js';

/** The error an OpenAI-protocol upstream reports inside its stream (`data: {"error":{…}}`), secrets scrubbed. */
export function streamedError(error: unknown, scrub: (message: unknown) => string): GatewayError {
  const msg =
    isRecord(error) && typeof error.message === 'string' ? error.message : 'upstream reported an error mid-stream';
  return new GatewayError(502, 'upstream', scrub(msg), { code: 'upstream_stream_error' });
}

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
      const j = parseStreamEvent(ev.data);
      if (j.error !== undefined) throw streamedError(j.error, this.scrub);
      const c = chatChunk.safeParse(j);
      if (!c.success) throw badUpstream('upstream sent a malformed stream event', 'upstream_invalid_stream');
      this.sawChunk = true;
      const usage = usageFromOpenAI(c.data.usage);
      if (usage) this.seenUsage = usage;
      if (c.data.choices.some((ch) => ch.finish_reason)) this.finished = true;
      out.push(c.data);
    }
    return out;
  }

  complete(): boolean {
    return this.done;
  }

  end(): GatewayError | undefined {
    return this.done || this.finished ? undefined : incompleteStream();
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
    const { stop_sequence: _dropped, usage, ...rest } = chunk;
    const c = { ...rest, model: this.model, ...(this.includeUsage ? { usage: usage ?? null } : {}) };
    return `data: ${JSON.stringify(c)}\n\n`;
  }

  finish(): string {
    return 'data: [DONE]\n\n';
  }
}
