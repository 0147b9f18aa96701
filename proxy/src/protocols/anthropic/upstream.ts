/** The upstream side of Anthropic for translated requests: canonical chat → `POST /v1/messages` and back. */
import type { ChatUpstreamHalf } from '../canonical/compose.js';
import { parseUpstreamJson } from '../common/json.js';
import { scrubSecrets } from '../common/secrets.js';
import { anthropicHeaders } from './headers.js';
import { ANTHROPIC_PATHS } from './passthrough.js';
import { anthropicRequestFromChat } from './request-from-chat.js';
import { chatResponseFromAnthropic } from './response.js';
import { messageAnswer } from './schemas.js';
import { AnthropicChunkDecoder } from './stream-decoder.js';
import { anthropicErrorParser } from './upstream-errors.js';

/**
 * Anthropic upstream for clients of another surface (529 is reported to them as 503). The client's own
 * `anthropic-version` is not forwarded: the request is the gateway's translation, written for the default version.
 */
export const anthropicChatUpstream: ChatUpstreamHalf = {
  request(chat, ctx) {
    const dropped: string[] = [];
    const body = anthropicRequestFromChat({ ...chat, stream: ctx.stream }, ctx.upstreamModel, dropped);
    return {
      method: 'POST',
      path: ANTHROPIC_PATHS.messages,
      headers: anthropicHeaders({ backend: ctx.backend }, ctx.stream),
      body: JSON.stringify(body),
      ...(dropped.length ? { dropped } : {}),
    };
  },
  response: (body, ctx) => chatResponseFromAnthropic(parseUpstreamJson(body, messageAnswer), ctx.publicModel),
  decoder: (ctx) =>
    new AnthropicChunkDecoder(ctx.publicModel, (m) => scrubSecrets(m, ctx.backend.apiKey), ctx.maxEventBytes),
  parseError: anthropicErrorParser,
};
