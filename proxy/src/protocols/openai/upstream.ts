/**
 * The upstream side of the OpenAI protocol (vLLM, llama.cpp, OpenAI, Groq, …) for translated requests: canonical
 * chat → `POST /chat/completions` (usage forced on in streams) and its answers back as canonical ones; the headers
 * every OpenAI-protocol request carries; the cheap probe a locally estimated count_tokens makes.
 */
import { chatResponse } from '../canonical/chat.js';
import type { ChatUpstreamHalf } from '../canonical/compose.js';
import { usageFromOpenAI } from '../canonical/usage.js';
import { parseUpstreamJson } from '../common/json.js';
import { scrubSecrets } from '../common/secrets.js';
import type { AttemptContext, UpstreamRequest } from '../types.js';
import { OpenAIChunkDecoder } from './stream.js';
import { openAIErrorParser } from './upstream-errors.js';
import { reasoningForOpenAI } from './upstream-reasoning.js';

/** Headers for an OpenAI-protocol upstream: JSON, bearer credential, the backend's extra headers. */
export function openAIHeaders(ctx: AttemptContext, stream: boolean): Record<string, string> {
  const h: Record<string, string> = { ...ctx.backend.headers, 'content-type': 'application/json' };
  h.accept = stream ? 'text/event-stream' : 'application/json';
  if (ctx.backend.apiKey !== undefined) h.authorization = `Bearer ${ctx.backend.apiKey}`;
  return h;
}

/** A cheap authenticated request (the models list) that checks the upstream serves. */
export const openAIProbe = (ctx: AttemptContext): UpstreamRequest => ({
  method: 'GET',
  path: '/models',
  headers: openAIHeaders(ctx, false),
});

/** OpenAI-protocol upstreams of translated requests. */
export const openAIChatUpstream: ChatUpstreamHalf = {
  request(chat, ctx) {
    const { stream_options: _ignored, ...rest } = reasoningForOpenAI(chat, ctx.backend.provider);
    const body = {
      ...rest,
      model: ctx.upstreamModel,
      stream: ctx.stream,
      ...(ctx.stream ? { stream_options: { include_usage: true } } : {}),
    };
    return {
      method: 'POST',
      path: '/chat/completions',
      headers: openAIHeaders(ctx, ctx.stream),
      body: JSON.stringify(body),
    };
  },
  response(body) {
    const j = parseUpstreamJson(body, chatResponse);
    return { body: j, usage: usageFromOpenAI(j.usage) };
  },
  decoder: (ctx) => new OpenAIChunkDecoder((m) => scrubSecrets(m, ctx.backend.apiKey), ctx.maxEventBytes),
  parseError: openAIErrorParser,
};
