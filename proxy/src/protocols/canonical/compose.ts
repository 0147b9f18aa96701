/**
 * Adapters composed from two halves around the canonical form (N+M instead of N×M): a client half (the surface's
 * format ↔ canonical) and an upstream half (canonical ↔ the upstream protocol's format). Any (operation, protocol)
 * pair that is not a native pass-through is one `chatAdapter` or `embedAdapter` call in adapters.ts.
 */
import type { Operation } from '../catalog.js';
import { isRecord } from '../common/json.js';
import type { Adapter, AdapterContext, AttemptContext, ErrorParser, UpstreamRequest } from '../types.js';
import type { ChatRequest, ChatResponse } from './chat.js';
import type { EmbeddingRequest, EmbeddingResponse } from './embeddings.js';
import { type ChunkDecoder, type ChunkEncoder, TranslatingStream } from './stream.js';
import { count, type Usage } from './usage.js';

/** The client side of a chat-like operation: its request as canonical chat, canonical answers in its format. */
export interface ChatClientHalf<O extends Operation> {
  /** Content type of the client-facing stream. */
  streamContentType: string;
  /** The client's body as a canonical request (model and stream are set by the upstream half). */
  toChat(ctx: AdapterContext<O>): ChatRequest;
  fromChat(res: ChatResponse, ctx: AdapterContext<O>): string;
  encoder(ctx: AdapterContext<O>): ChunkEncoder;
}

/** The upstream side: canonical requests in its protocol, its answers as canonical ones. */
export interface ChatUpstreamHalf {
  request(chat: ChatRequest, ctx: AttemptContext): UpstreamRequest;
  response(body: Buffer, ctx: AttemptContext): { body: ChatResponse; usage?: Usage | undefined };
  decoder(ctx: AttemptContext): ChunkDecoder;
  parseError: ErrorParser;
}

/** The adapter serving `client` requests from an `upstream` protocol through canonical chat. */
export function chatAdapter<O extends Operation>(client: ChatClientHalf<O>, upstream: ChatUpstreamHalf): Adapter<O> {
  return {
    streamContentType: client.streamContentType,
    buildRequest: (ctx) => upstream.request(client.toChat(ctx), ctx),
    parseError: upstream.parseError,
    translateResponse(body, ctx) {
      const r = upstream.response(body, ctx);
      return { body: client.fromChat(r.body, ctx), ...(r.usage ? { usage: r.usage } : {}) };
    },
    createStreamTranslator: (ctx) => new TranslatingStream(upstream.decoder(ctx), client.encoder(ctx)),
  };
}

/** The client side of an embeddings operation. */
export interface EmbedClientHalf<O extends Operation> {
  toEmbed(ctx: AdapterContext<O>): EmbeddingRequest;
  fromEmbed(res: EmbeddingResponse, ctx: AdapterContext<O>): string;
}

/** The upstream side of embeddings. */
export interface EmbedUpstreamHalf {
  request(req: EmbeddingRequest, ctx: AttemptContext): UpstreamRequest;
  response(body: Buffer, ctx: AttemptContext): EmbeddingResponse;
  parseError: ErrorParser;
}

/** Input tokens an embeddings answer reports (`usage.prompt_tokens`, 0 when absent). */
export function embeddingInputTokens(res: EmbeddingResponse): number {
  return isRecord(res.usage) ? count(res.usage.prompt_tokens) : 0;
}

/** The adapter serving `client` embedding requests from `upstream`. Embeddings never stream. */
export function embedAdapter<O extends Operation>(client: EmbedClientHalf<O>, upstream: EmbedUpstreamHalf): Adapter<O> {
  return {
    streamContentType: 'application/json',
    buildRequest: (ctx) => upstream.request(client.toEmbed(ctx), ctx),
    parseError: upstream.parseError,
    translateResponse(body, ctx) {
      const r = upstream.response(body, ctx);
      return { body: client.fromEmbed(r, ctx), usage: { inputTokens: embeddingInputTokens(r), outputTokens: 0 } };
    },
    createStreamTranslator: () => {
      throw new Error('embeddings do not stream');
    },
  };
}
