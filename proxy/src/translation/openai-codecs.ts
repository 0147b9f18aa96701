/** The OpenAI halves of composed adapters: OpenAI chat clients, and OpenAI-protocol (vLLM, llama.cpp, …) upstreams. */
import { parseOpenAIError } from '../providers/openai/errors.js';
import { openAIHeaders } from '../providers/openai/request.js';
import { OPENAI_ANSWER, parseUpstreamJson } from '../providers/openai/response.js';
import { scrubSecrets } from '../providers/secrets.js';
import type { ClientCodec, UpstreamCodec } from './codec.js';
import { neutralUsage } from './common.js';
import { OpenAIChunkDecoder, OpenAIChunkEncoder } from './openai-stream.js';
import type { ChatRequest, ChatResponse } from './openai-types.js';

/** OpenAI chat clients: the body already is canonical. */
export const openAIChatClient: ClientCodec = {
  streamContentType: 'text/event-stream; charset=utf-8',
  toChat: (ctx) => ctx.body as ChatRequest,
  fromChat: (res, ctx) => JSON.stringify({ ...res, model: ctx.publicModel, stop_sequence: undefined }),
  encoder: (ctx) => new OpenAIChunkEncoder(ctx.publicModel, ctx.clientWantsUsage),
};

/** OpenAI-protocol upstreams: `POST /chat/completions`, usage forced on in streams. */
export const openAIChatUpstream: UpstreamCodec = {
  request(chat, ctx) {
    const body: ChatRequest = { ...chat, model: ctx.upstreamModel, stream: ctx.stream };
    if (ctx.stream) body.stream_options = { include_usage: true };
    else delete body.stream_options;
    return {
      method: 'POST',
      path: '/chat/completions',
      headers: openAIHeaders(ctx, ctx.stream),
      body: JSON.stringify(body),
    };
  },
  response(body) {
    const j = parseUpstreamJson(body, OPENAI_ANSWER.chat) as unknown as ChatResponse;
    return { body: j, usage: neutralUsage(j.usage) };
  },
  decoder: (ctx) => new OpenAIChunkDecoder((m) => scrubSecrets(m, ctx.backend.apiKey), ctx.maxEventBytes),
  parseError: (status, body, headers, ctx) => parseOpenAIError(status, body, headers, ctx.backend.apiKey),
};
