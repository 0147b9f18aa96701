/** Anthropic clients served by an Anthropic upstream: Messages and count_tokens passed through natively. */
import type { OperationOf } from '../catalog.js';
import { type Json, parseUpstreamJson } from '../common/json.js';
import type { Adapter } from '../types.js';
import { anthropicHeaders } from './headers.js';
import { usageFromAnthropic } from './mapping.js';
import { AnthropicPassthroughStream } from './passthrough-stream.js';
import { ANTHROPIC_ANSWER } from './schemas.js';
import { anthropicNativeErrorParser } from './upstream-errors.js';

type AnthropicOperation = OperationOf<'anthropic'>;

/** Paths under the backend's base URL (`https://api.anthropic.com/v1`; a bare origin gets `/v1`). */
export const ANTHROPIC_PATHS: Record<AnthropicOperation, string> = {
  messages: '/messages',
  count_tokens: '/messages/count_tokens',
};

/** The pass-through adapter of an Anthropic operation. */
export function anthropicPassthrough<O extends AnthropicOperation>(): Adapter<O> {
  return {
    streamContentType: 'text/event-stream; charset=utf-8',
    buildRequest: (ctx) => ({
      method: 'POST',
      path: ANTHROPIC_PATHS[ctx.operation],
      headers: anthropicHeaders(ctx, ctx.stream),
      body: JSON.stringify({ ...ctx.body, model: ctx.upstreamModel }),
    }),
    parseError: anthropicNativeErrorParser,
    translateResponse(body, ctx) {
      const j = parseUpstreamJson<Json>(body, ANTHROPIC_ANSWER[ctx.operation]);
      const usage = j.type === 'message' ? usageFromAnthropic(j.usage) : undefined;
      const answer = 'model' in j ? { ...j, model: ctx.publicModel } : j;
      return { body: JSON.stringify(answer), ...(usage ? { usage } : {}) };
    },
    createStreamTranslator: (ctx) => new AnthropicPassthroughStream(ctx),
  };
}
