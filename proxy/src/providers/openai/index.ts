/** The openai-compatible provider (vLLM, llama.cpp, OpenAI, Groq, Together, …) for OpenAI-surface clients. */
import { registerAdapter } from '../registry.js';
import type { Adapter } from '../types.js';
import { parseOpenAIError } from './errors.js';
import { buildOpenAIRequest } from './request.js';
import { translateOpenAIResponse } from './response.js';
import { OpenAIPassthroughStream } from './stream.js';

export const openAIPassthrough: Adapter = {
  streamContentType: 'text/event-stream; charset=utf-8',
  buildRequest: buildOpenAIRequest,
  parseError: (status, body, headers, ctx) => parseOpenAIError(status, body, headers, ctx.backend.apiKey),
  translateResponse: translateOpenAIResponse,
  createStreamTranslator: (ctx) => new OpenAIPassthroughStream(ctx),
};

registerAdapter(['openai/openai/chat', 'openai/openai/completions', 'openai/openai/embeddings'], openAIPassthrough);
