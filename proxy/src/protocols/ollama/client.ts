/** The client side of Ollama for translated requests: chat, generate and embed (incl. legacy `/api/embeddings`). */
import { type ChatClientHalf, type EmbedClientHalf, embeddingInputTokens } from '../canonical/compose.js';
import { isLegacyEmbed } from './passthrough.js';
import { chatRequestFromOllamaChat, chatRequestFromOllamaGenerate } from './request-to-chat.js';
import { ollamaAnswerFromChat } from './response.js';
import { OllamaChunkEncoder } from './stream.js';

const NDJSON = 'application/x-ndjson';

/** Ollama `/api/chat` clients of a non-Ollama upstream. */
export const ollamaChatClient: ChatClientHalf<'ollama_chat'> = {
  streamContentType: NDJSON,
  toChat: (ctx) => chatRequestFromOllamaChat(ctx.body, ctx.upstreamModel),
  fromChat: (res, ctx) => JSON.stringify(ollamaAnswerFromChat(res, ctx.publicModel, 'chat')),
  encoder: (ctx) => new OllamaChunkEncoder(ctx.publicModel, 'chat'),
};

/** Ollama `/api/generate` clients of a non-Ollama upstream. */
export const ollamaGenerateClient: ChatClientHalf<'ollama_generate'> = {
  streamContentType: NDJSON,
  toChat: (ctx) => chatRequestFromOllamaGenerate(ctx.body, ctx.upstreamModel),
  fromChat: (res, ctx) => JSON.stringify(ollamaAnswerFromChat(res, ctx.publicModel, 'generate')),
  encoder: (ctx) => new OllamaChunkEncoder(ctx.publicModel, 'generate'),
};

/** Ollama `/api/embed` and `/api/embeddings` clients of a non-Ollama upstream. */
export const ollamaEmbedClient: EmbedClientHalf<'ollama_embed'> = {
  toEmbed(ctx) {
    const b = ctx.body;
    return {
      model: ctx.upstreamModel,
      input: b.input ?? b.prompt ?? '',
      ...(b.dimensions !== undefined ? { dimensions: b.dimensions } : {}),
    };
  },
  fromEmbed(res, ctx) {
    const vectors = res.data.map((d) => d.embedding);
    if (isLegacyEmbed(ctx.body)) return JSON.stringify({ embedding: vectors[0] ?? [] });
    return JSON.stringify({
      model: ctx.publicModel,
      embeddings: vectors,
      prompt_eval_count: embeddingInputTokens(res),
    });
  },
};
