/** Anthropic clients served by an Anthropic upstream: Messages and count_tokens passed through natively. */
import { usageFromAnthropic } from '../../translation/anthropic-mapping.js';
import type { AnthropicUsage } from '../../translation/anthropic-types.js';
import { type AnswerShape, parseUpstreamJson } from '../openai/response.js';
import type { Adapter, AdapterContext } from '../types.js';
import { parseAnthropicError } from './errors.js';
import { AnthropicPassthroughStream } from './passthrough-stream.js';
import { ANTHROPIC_ANSWER, ANTHROPIC_PATHS, anthropicHeaders } from './request.js';

function passthrough(path: (ctx: AdapterContext) => string, shape: AnswerShape): Adapter {
  return {
    streamContentType: 'text/event-stream; charset=utf-8',
    buildRequest: (ctx) => ({
      method: 'POST',
      path: path(ctx),
      headers: anthropicHeaders(ctx, ctx.stream),
      body: JSON.stringify({ ...ctx.body, model: ctx.upstreamModel }),
    }),
    parseError: (status, body, headers, ctx) => parseAnthropicError(status, body, headers, ctx.backend.apiKey, true),
    translateResponse(body, ctx) {
      const j = parseUpstreamJson(body, shape);
      if ('model' in j) j.model = ctx.publicModel;
      const usage = j.type === 'message' ? usageFromAnthropic(j.usage as AnthropicUsage) : undefined;
      return { body: JSON.stringify(j), ...(usage ? { usage } : {}) };
    },
    createStreamTranslator: (ctx) => new AnthropicPassthroughStream(ctx),
  };
}

export const anthropicMessagesPassthrough = passthrough(() => ANTHROPIC_PATHS.messages, ANTHROPIC_ANSWER.messages);
export const anthropicCountTokensPassthrough = passthrough(
  () => ANTHROPIC_PATHS.countTokens,
  ANTHROPIC_ANSWER.countTokens,
);
