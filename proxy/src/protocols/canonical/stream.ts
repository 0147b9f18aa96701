/**
 * Stream translation through the canonical form: a decoder turns upstream bytes into OpenAI chat chunks, an encoder
 * turns chunks into the client's wire format. Both keep per-request state and work chunk by chunk: nothing but a
 * partial event/line (and, for Ollama clients, a tool call's argument text until it is complete) is held back.
 */
import type { GatewayError } from '../../errors.js';
import type { StreamTranslator } from '../types.js';
import type { ChatChunk } from './chat.js';
import type { Usage } from './usage.js';

/** Upstream wire format → canonical chunks. Throws a GatewayError when the upstream reports an error event. */
export interface ChunkDecoder {
  push(chunk: Buffer): ChatChunk[];
  /** Upstream ended: an error when the stream did not complete properly. */
  end(): GatewayError | undefined;
  /** The upstream's end marker arrived; whatever follows it is ignored. */
  complete(): boolean;
  usage(): Usage | undefined;
}

/** Canonical chunks → client wire format. A usage-only chunk (no choices) carries the final usage. */
export interface ChunkEncoder {
  encode(chunk: ChatChunk): string;
  /** The bytes that end a complete stream. */
  finish(): string;
  /** The event that ends the stream with `err` (see StreamTranslator.errorEvent). */
  errorEvent?(err: GatewayError): string | undefined;
}

/** A StreamTranslator made of one decoder and one encoder. One instance per request. */
export class TranslatingStream implements StreamTranslator {
  constructor(
    private readonly decoder: ChunkDecoder,
    private readonly encoder: ChunkEncoder,
  ) {}

  push(chunk: Buffer): string {
    let out = '';
    for (const c of this.decoder.push(chunk)) out += this.encoder.encode(c);
    return out;
  }

  end(): string | GatewayError {
    return this.decoder.end() ?? this.encoder.finish();
  }

  complete(): boolean {
    return this.decoder.complete();
  }

  usage(): Usage | undefined {
    return this.decoder.usage();
  }

  errorEvent(err: GatewayError): string | undefined {
    return this.encoder.errorEvent?.(err);
  }
}
