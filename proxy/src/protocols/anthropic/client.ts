/** The client side of Anthropic Messages for translated requests: a Messages request as canonical chat and back. */
import type { ChatClientHalf } from '../canonical/compose.js';
import { chatRequestFromAnthropic } from './request-to-chat.js';
import { anthropicAnswerFromChat } from './response.js';
import { AnthropicChunkEncoder } from './stream-encoder.js';

/** Anthropic Messages clients of a non-Anthropic upstream. */
export const anthropicClient: ChatClientHalf<'messages'> = {
  streamContentType: 'text/event-stream; charset=utf-8',
  toChat: (ctx) => chatRequestFromAnthropic(ctx.body, ctx.upstreamModel),
  fromChat: (res, ctx) => JSON.stringify(anthropicAnswerFromChat(res, ctx.publicModel)),
  encoder: (ctx) => new AnthropicChunkEncoder(ctx.publicModel),
};
