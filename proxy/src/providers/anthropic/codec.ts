/** The Anthropic upstream half of composed adapters: canonical chat → `POST /v1/messages` and back. */

import { anthropicRequestFromOpenAI } from '../../translation/anthropic-request-from-openai.js';
import { openAIResponseFromAnthropic } from '../../translation/anthropic-response.js';
import { AnthropicChunkDecoder } from '../../translation/anthropic-stream-decoder.js';
import type { AnthropicResponse } from '../../translation/anthropic-types.js';
import type { UpstreamCodec } from '../../translation/codec.js';
import { parseUpstreamJson } from '../openai/response.js';
import { scrubSecrets } from '../secrets.js';
import { parseAnthropicError } from './errors.js';
import { ANTHROPIC_ANSWER, ANTHROPIC_PATHS, anthropicHeaders } from './request.js';

/** Anthropic upstream for clients of another surface (529 is reported to them as 503). */
export const anthropicChatUpstream: UpstreamCodec = {
  request(chat, ctx) {
    const body = anthropicRequestFromOpenAI({ ...chat, stream: ctx.stream }, ctx.upstreamModel);
    return {
      method: 'POST',
      path: ANTHROPIC_PATHS.messages,
      headers: anthropicHeaders({ ...ctx, header: undefined }, ctx.stream),
      body: JSON.stringify(body),
    };
  },
  response(body, ctx) {
    const j = parseUpstreamJson(body, ANTHROPIC_ANSWER.messages) as unknown as AnthropicResponse;
    return openAIResponseFromAnthropic(j, ctx.publicModel);
  },
  decoder: (ctx) =>
    new AnthropicChunkDecoder(ctx.publicModel, (m) => scrubSecrets(m, ctx.backend.apiKey), ctx.maxEventBytes),
  parseError: (status, body, headers, ctx) => parseAnthropicError(status, body, headers, ctx.backend.apiKey, false),
};
