/** Responses API clients served through canonical chat: the request as chat, chat answers as `response` objects. */
import type { ChatClientHalf } from '../canonical/compose.js';
import { usageFromOpenAI } from '../canonical/usage.js';
import { outputItems, responseEnd, responseIds, responseShell } from './responses-answer.js';
import { chatFromResponses } from './responses-request.js';
import { finishOf, ResponsesEventEncoder } from './responses-stream.js';

/** Responses clients of upstreams that do not serve the Responses API themselves. */
export const openAIResponsesClient: ChatClientHalf<'responses'> = {
  streamContentType: 'text/event-stream; charset=utf-8',
  toChat: (ctx) => chatFromResponses(ctx.body),
  fromChat(res, ctx) {
    const c = res.choices[0];
    const output = outputItems({
      content: c?.message.content ?? null,
      toolCalls: c?.message.tool_calls ?? [],
      reasoning: c?.message.reasoning_content,
      reasoningSignature: c?.message.reasoning_signature ?? undefined,
    });
    const end = responseEnd(finishOf(c?.finish_reason ?? 'stop'), usageFromOpenAI(res.usage));
    return JSON.stringify({ ...responseShell(ctx.body, ctx.publicModel, responseIds()), ...end, output });
  },
  encoder: (ctx) => new ResponsesEventEncoder(ctx.body, ctx.publicModel),
};
