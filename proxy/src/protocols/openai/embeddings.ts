/**
 * OpenAI embeddings around the canonical form: the client half (the body already is canonical; `encoding_format:
 * base64` is produced by the gateway when the upstream returns floats) and the OpenAI-protocol upstream half
 * (`POST /embeddings`, floats).
 */
import type { EmbedClientHalf, EmbedUpstreamHalf } from '../canonical/compose.js';
import { embeddingResponse } from '../canonical/embeddings.js';
import { parseUpstreamJson } from '../common/json.js';
import { openAIHeaders } from './upstream.js';
import { openAIErrorParser } from './upstream-errors.js';

const base64OfFloats = (v: number[]) => Buffer.from(new Float32Array(v).buffer).toString('base64');

/** OpenAI embedding clients of a non-OpenAI upstream. */
export const openAIEmbedClient: EmbedClientHalf<'embeddings'> = {
  toEmbed: (ctx) => ctx.body,
  fromEmbed(res, ctx) {
    const b64 = ctx.body.encoding_format === 'base64';
    const data = res.data.map((d) => ({
      ...d,
      embedding: b64 && Array.isArray(d.embedding) ? base64OfFloats(d.embedding) : d.embedding,
    }));
    return JSON.stringify({ ...res, data, model: ctx.publicModel });
  },
};

/** OpenAI-protocol embedding upstreams. */
export const openAIEmbedUpstream: EmbedUpstreamHalf = {
  request: (req, ctx) => ({
    method: 'POST',
    path: '/embeddings',
    headers: openAIHeaders(ctx, false),
    body: JSON.stringify({ ...req, model: ctx.upstreamModel, encoding_format: 'float' }),
  }),
  response: (body) => parseUpstreamJson(body, embeddingResponse),
  parseError: openAIErrorParser,
};
