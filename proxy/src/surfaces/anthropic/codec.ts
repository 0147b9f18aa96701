/** The Anthropic client half of composed adapters, and the local count_tokens estimate for other upstreams. */

import type { Adapter, AdapterContext, UpstreamRequest } from '../../providers/types.js';
import { openAIRequestFromAnthropic } from '../../translation/anthropic-request-to-openai.js';
import { anthropicResponseFromOpenAI } from '../../translation/anthropic-response.js';
import { AnthropicChunkEncoder } from '../../translation/anthropic-stream-encoder.js';
import type { AnthropicRequest } from '../../translation/anthropic-types.js';
import type { ClientCodec } from '../../translation/codec.js';
import { estimateAnthropicInputTokens } from '../../translation/token-estimate.js';

/** Anthropic Messages clients of a non-Anthropic upstream. */
export const anthropicClient: ClientCodec = {
  streamContentType: 'text/event-stream; charset=utf-8',
  toChat: (ctx) => openAIRequestFromAnthropic(ctx.body as AnthropicRequest, ctx.upstreamModel),
  fromChat: (res, ctx) => JSON.stringify(anthropicResponseFromOpenAI(res, ctx.publicModel).body),
  encoder: (ctx) => new AnthropicChunkEncoder(ctx.publicModel),
};

/**
 * count_tokens against an upstream without an Anthropic tokenizer: a cheap upstream call (`probe`, e.g. the models
 * list) keeps routing, auth and health in the loop; the answer is the local estimate of token-estimate.ts.
 */
export function countTokensEstimate(
  probe: (ctx: AdapterContext) => UpstreamRequest,
  parseError: Adapter['parseError'],
): Adapter {
  return {
    streamContentType: 'application/json',
    buildRequest: probe,
    parseError,
    translateResponse: (_body, ctx) => ({
      body: JSON.stringify({ input_tokens: estimateAnthropicInputTokens(ctx.body) }),
    }),
    createStreamTranslator: () => {
      throw new Error('count_tokens does not stream');
    },
  };
}
