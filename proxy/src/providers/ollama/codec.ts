/** The Ollama upstream half of composed chat adapters: canonical chat → `POST /api/chat` and back. */
import type { UpstreamCodec } from '../../translation/codec.js';
import { ollamaChatFromOpenAI } from '../../translation/ollama-request-from-openai.js';
import { openAIResponseFromOllama } from '../../translation/ollama-response.js';
import { OllamaChunkDecoder } from '../../translation/ollama-stream.js';
import type { OllamaAnswer } from '../../translation/ollama-types.js';
import { parseOpenAIError } from '../openai/errors.js';
import { parseUpstreamJson } from '../openai/response.js';
import { scrubSecrets } from '../secrets.js';
import { OLLAMA_ANSWER, OLLAMA_PATHS, ollamaHeaders } from './request.js';

/** Ollama upstream for OpenAI and Anthropic clients. Ollama errors (`{"error":"…"}`) parse like OpenAI ones. */
export const ollamaChatUpstream: UpstreamCodec = {
  request: (chat, ctx) => ({
    method: 'POST',
    path: OLLAMA_PATHS.chat,
    headers: ollamaHeaders(ctx, ctx.stream),
    body: JSON.stringify(ollamaChatFromOpenAI(chat, ctx.upstreamModel, ctx.stream)),
  }),
  response: (body, ctx) =>
    openAIResponseFromOllama(parseUpstreamJson(body, OLLAMA_ANSWER.chat) as OllamaAnswer, ctx.publicModel),
  decoder: (ctx) =>
    new OllamaChunkDecoder(ctx.publicModel, (m) => scrubSecrets(m, ctx.backend.apiKey), ctx.maxEventBytes),
  parseError: (status, body, headers, ctx) => parseOpenAIError(status, body, headers, ctx.backend.apiKey),
};
