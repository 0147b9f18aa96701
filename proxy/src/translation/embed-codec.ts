/**
 * Embedding adapters composed around the canonical OpenAI embeddings form, and the OpenAI and Ollama halves.
 * Ollama `/api/embed` takes text only and returns floats; OpenAI `encoding_format: base64` is produced here.
 */

import { OLLAMA_ANSWER } from '../providers/ollama/request.js';
import { parseOpenAIError } from '../providers/openai/errors.js';
import { openAIHeaders } from '../providers/openai/request.js';
import { OPENAI_ANSWER, parseUpstreamJson } from '../providers/openai/response.js';
import type { Adapter, AdapterContext, UpstreamRequest, Usage } from '../providers/types.js';
import type { UpstreamCodec } from './codec.js';
import { type Json, untranslatable } from './common.js';
import type { EmbeddingRequest, EmbeddingResponse } from './openai-types.js';

export interface EmbedClientCodec {
  toEmbed(ctx: AdapterContext): EmbeddingRequest;
  fromEmbed(res: EmbeddingResponse, ctx: AdapterContext): string;
}

export interface EmbedUpstreamCodec {
  request(req: EmbeddingRequest, ctx: AdapterContext): UpstreamRequest;
  response(body: Buffer, ctx: AdapterContext): EmbeddingResponse;
  parseError: UpstreamCodec['parseError'];
}

/** The adapter serving `client` embedding requests from `upstream`. */
export function embedAdapter(client: EmbedClientCodec, upstream: EmbedUpstreamCodec): Adapter {
  return {
    streamContentType: 'application/json',
    buildRequest: (ctx) => upstream.request(client.toEmbed(ctx), ctx),
    parseError: upstream.parseError,
    translateResponse(body, ctx) {
      const r = upstream.response(body, ctx);
      const usage: Usage = { inputTokens: r.usage.prompt_tokens, outputTokens: 0 };
      return { body: client.fromEmbed(r, ctx), usage };
    },
    createStreamTranslator: () => {
      throw new Error('embeddings do not stream');
    },
  };
}

const base64OfFloats = (v: number[]) => Buffer.from(new Float32Array(v).buffer).toString('base64');

/** OpenAI embedding clients (base64 encoding done by the gateway when the upstream returns floats). */
export const openAIEmbedClient: EmbedClientCodec = {
  toEmbed: (ctx) => ctx.body as EmbeddingRequest,
  fromEmbed(res, ctx) {
    const b64 = (ctx.body as EmbeddingRequest).encoding_format === 'base64';
    const data = res.data.map((d) => ({
      ...d,
      embedding: b64 && Array.isArray(d.embedding) ? base64OfFloats(d.embedding) : d.embedding,
    }));
    return JSON.stringify({ ...res, data, model: ctx.publicModel });
  },
};

/** OpenAI-protocol embedding upstreams (`POST /embeddings`, floats). */
export const openAIEmbedUpstream: EmbedUpstreamCodec = {
  request: (req, ctx) => ({
    method: 'POST',
    path: '/embeddings',
    headers: openAIHeaders(ctx, false),
    body: JSON.stringify({ ...req, model: ctx.upstreamModel, encoding_format: 'float' }),
  }),
  response(body) {
    const j = parseUpstreamJson(body, OPENAI_ANSWER.embeddings) as unknown as EmbeddingResponse;
    j.usage ??= { prompt_tokens: 0, total_tokens: 0 };
    return j;
  },
  parseError: (status, body, headers, ctx) => parseOpenAIError(status, body, headers, ctx.backend.apiKey),
};

/** Ollama `/api/embed` upstreams. */
export const ollamaEmbedUpstream: EmbedUpstreamCodec = {
  request(req, ctx) {
    const input = req.input;
    const texts =
      typeof input === 'string'
        ? input
        : Array.isArray(input) && input.every((x) => typeof x === 'string')
          ? input
          : undefined;
    if (texts === undefined) throw untranslatable('input', 'Ollama embeds text only, not token arrays');
    const body: Json = { model: ctx.upstreamModel, input: texts };
    if (req.dimensions !== undefined) body.dimensions = req.dimensions;
    const headers: Record<string, string> = { ...ctx.backend.headers, 'content-type': 'application/json' };
    if (ctx.backend.apiKey !== undefined) headers.authorization = `Bearer ${ctx.backend.apiKey}`;
    return { method: 'POST', path: '/api/embed', headers, body: JSON.stringify(body) };
  },
  response(body, ctx) {
    const j = parseUpstreamJson(body, OLLAMA_ANSWER.embed) as { embeddings: number[][]; prompt_eval_count?: number };
    const tokens = j.prompt_eval_count ?? 0;
    return {
      object: 'list',
      data: j.embeddings.map((embedding, index) => ({ object: 'embedding', index, embedding })),
      model: ctx.publicModel,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
  },
  parseError: (status, body, headers, ctx) => parseOpenAIError(status, body, headers, ctx.backend.apiKey),
};
