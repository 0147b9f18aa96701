/**
 * OpenAI-surface clients of OpenAI-protocol upstreams (vLLM, llama.cpp, OpenAI, …): the client's body goes through
 * with the upstream model name (and, for streams, usage forced on); the answer comes back with the public model
 * name, and the upstream's bytes are forwarded untouched when they already carry it.
 */

import { usageFromOpenAI } from '../canonical/usage.js';
import type { OperationOf } from '../catalog.js';
import { type Json, parseUpstreamJson } from '../common/json.js';
import type { Adapter, AdapterContext, UpstreamRequest } from '../types.js';
import { OpenAIPassthroughStream } from './passthrough-stream.js';
import { OPENAI_ANSWER } from './schemas.js';
import { openAIHeaders } from './upstream.js';
import { openAIErrorParser } from './upstream-errors.js';

type OpenAIOperation = OperationOf<'openai'>;

const PATHS: Record<OpenAIOperation, string> = {
  chat: '/chat/completions',
  completions: '/completions',
  embeddings: '/embeddings',
  rerank: '/rerank',
  responses: '/responses',
};

/**
 * The client's body with the upstream model name and, for streams, `stream_options.include_usage` forced on so
 * usage is counted (the usage chunk is stripped again when the client did not ask for it).
 */
function passthroughRequest<O extends OpenAIOperation>(ctx: AdapterContext<O>): UpstreamRequest {
  const body: Record<string, unknown> = { ...ctx.body, model: ctx.upstreamModel };
  if (ctx.stream) {
    const so = body.stream_options;
    body.stream_options = { ...(typeof so === 'object' && so !== null ? so : {}), include_usage: true };
  }
  return {
    method: 'POST',
    path: PATHS[ctx.operation],
    headers: openAIHeaders(ctx, ctx.stream),
    body: JSON.stringify(body),
  };
}

/** The pass-through adapter of an OpenAI operation. */
export function openAIPassthrough<O extends OpenAIOperation>(): Adapter<O> {
  return {
    streamContentType: 'text/event-stream; charset=utf-8',
    buildRequest: passthroughRequest,
    parseError: openAIErrorParser,
    translateResponse(body, ctx) {
      const j = parseUpstreamJson<Json>(body, OPENAI_ANSWER[ctx.operation]);
      const usage = usageFromOpenAI(j.usage);
      // Already in the client's terms: forward the upstream bytes untouched instead of serialising them again.
      if (!('model' in j) || j.model === ctx.publicModel) return { body, ...(usage ? { usage } : {}) };
      return { body: JSON.stringify({ ...j, model: ctx.publicModel }), ...(usage ? { usage } : {}) };
    },
    createStreamTranslator: (ctx) => new OpenAIPassthroughStream(ctx),
  };
}
