/**
 * Adapters composed from two halves around the canonical OpenAI chat form: a client codec (the surface's format)
 * and an upstream codec (the upstream protocol's format). Any (surface, protocol) pair is one `chatAdapter` call.
 */
import type { GatewayError } from '../errors.js';
import type { Adapter, AdapterContext, UpstreamRequest, Usage } from '../providers/types.js';
import type { ChatRequest, ChatResponse } from './openai-types.js';
import { type ChunkDecoder, type ChunkEncoder, TranslatingStream } from './stream.js';

/** The client side: its request as canonical chat, canonical answers in its format. */
export interface ClientCodec {
  /** Content type of the client-facing stream. */
  streamContentType: string;
  /** The client's body as a canonical request (model and stream are set by the upstream codec). */
  toChat(ctx: AdapterContext): ChatRequest;
  fromChat(res: ChatResponse, ctx: AdapterContext): string;
  encoder(ctx: AdapterContext): ChunkEncoder;
}

/** The upstream side: canonical requests in its protocol, its answers as canonical ones. */
export interface UpstreamCodec {
  request(chat: ChatRequest, ctx: AdapterContext): UpstreamRequest;
  response(body: Buffer, ctx: AdapterContext): { body: ChatResponse; usage?: Usage | undefined };
  decoder(ctx: AdapterContext): ChunkDecoder;
  parseError(
    status: number,
    body: Buffer,
    headers: Record<string, string | string[] | undefined>,
    ctx: AdapterContext,
  ): GatewayError;
}

/** The adapter serving `client` requests from a `upstream` protocol through canonical chat. */
export function chatAdapter(client: ClientCodec, upstream: UpstreamCodec): Adapter {
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
