/**
 * The upstream side of Ollama for translated requests: canonical chat → `POST /api/chat` and canonical embeddings →
 * `POST /api/embed` (text only, floats), and their answers back. Ollama errors (`{"error":"…"}`) parse like OpenAI
 * ones.
 */
import type { ChatUpstreamHalf, EmbedUpstreamHalf } from '../canonical/compose.js';
import { parseUpstreamJson, untranslatable } from '../common/json.js';
import { scrubSecrets } from '../common/secrets.js';
import { openAIErrorParser } from '../openai/upstream-errors.js';
import { OLLAMA_PATHS, ollamaHeaders } from './headers.js';
import { ollamaChatFromChat } from './request-from-chat.js';
import { chatResponseFromOllama } from './response.js';
import { OLLAMA_ANSWER, ollamaAnswer } from './schemas.js';
import { OllamaChunkDecoder } from './stream.js';

/** Ollama upstream for OpenAI and Anthropic clients. */
export const ollamaChatUpstream: ChatUpstreamHalf = {
  request: (chat, ctx) => ({
    method: 'POST',
    path: OLLAMA_PATHS.chat,
    headers: ollamaHeaders(ctx, ctx.stream),
    body: JSON.stringify(ollamaChatFromChat(chat, ctx.upstreamModel, ctx.stream)),
  }),
  response(body, ctx) {
    const j = parseUpstreamJson(body, OLLAMA_ANSWER.chat.and(ollamaAnswer));
    return chatResponseFromOllama(j, ctx.publicModel);
  },
  decoder: (ctx) =>
    new OllamaChunkDecoder(ctx.publicModel, (m) => scrubSecrets(m, ctx.backend.apiKey), ctx.maxEventBytes),
  parseError: openAIErrorParser,
};

/** Ollama `/api/embed` upstreams. */
export const ollamaEmbedUpstream: EmbedUpstreamHalf = {
  request(req, ctx) {
    const input = req.input;
    const texts = typeof input === 'string' ? input : input.every((x) => typeof x === 'string') ? input : undefined;
    if (texts === undefined) throw untranslatable('input', 'Ollama embeds text only, not token arrays');
    const body = {
      model: ctx.upstreamModel,
      input: texts,
      ...(req.dimensions !== undefined ? { dimensions: req.dimensions } : {}),
    };
    return {
      method: 'POST',
      path: OLLAMA_PATHS.embed,
      headers: ollamaHeaders(ctx, false),
      body: JSON.stringify(body),
    };
  },
  response(body, ctx) {
    const j = parseUpstreamJson(body, OLLAMA_ANSWER.embed);
    const tokens = j.prompt_eval_count ?? 0;
    return {
      object: 'list',
      data: j.embeddings.map((embedding, index) => ({ object: 'embedding', index, embedding })),
      model: ctx.publicModel,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
  },
  parseError: openAIErrorParser,
};
