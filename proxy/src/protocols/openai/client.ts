/** The client side of OpenAI chat for translated requests: the body already is canonical; answers get the public name. */
import type { ChatClientHalf } from '../canonical/compose.js';
import { OpenAIChunkEncoder } from './stream.js';

/** OpenAI chat clients of a non-OpenAI upstream. */
export const openAIChatClient: ChatClientHalf<'chat'> = {
  streamContentType: 'text/event-stream; charset=utf-8',
  toChat: (ctx) => ctx.body,
  fromChat: (res, ctx) => JSON.stringify({ ...res, model: ctx.publicModel, stop_sequence: undefined }),
  encoder: (ctx) => new OpenAIChunkEncoder(ctx.publicModel, ctx.clientWantsUsage),
};
