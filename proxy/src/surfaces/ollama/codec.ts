/** The Ollama client halves of composed adapters: chat, generate and embed (incl. legacy `/api/embeddings`). */
import type { ClientCodec } from '../../translation/codec.js';
import type { Json } from '../../translation/common.js';
import type { EmbedClientCodec } from '../../translation/embed-codec.js';
import {
  openAIRequestFromOllamaChat,
  openAIRequestFromOllamaGenerate,
} from '../../translation/ollama-request-to-openai.js';
import { ollamaAnswerFromOpenAI } from '../../translation/ollama-response.js';
import { OllamaChunkEncoder } from '../../translation/ollama-stream.js';
import type { OllamaChatRequest, OllamaGenerateRequest } from '../../translation/ollama-types.js';

const NDJSON = 'application/x-ndjson';

export const ollamaChatClient: ClientCodec = {
  streamContentType: NDJSON,
  toChat: (ctx) => openAIRequestFromOllamaChat(ctx.body as OllamaChatRequest, ctx.upstreamModel),
  fromChat: (res, ctx) => JSON.stringify(ollamaAnswerFromOpenAI(res, ctx.publicModel, 'chat')),
  encoder: (ctx) => new OllamaChunkEncoder(ctx.publicModel, 'chat'),
};

export const ollamaGenerateClient: ClientCodec = {
  streamContentType: NDJSON,
  toChat: (ctx) => openAIRequestFromOllamaGenerate(ctx.body as OllamaGenerateRequest, ctx.upstreamModel),
  fromChat: (res, ctx) => JSON.stringify(ollamaAnswerFromOpenAI(res, ctx.publicModel, 'generate')),
  encoder: (ctx) => new OllamaChunkEncoder(ctx.publicModel, 'generate'),
};

/** Whether an embed body is the legacy `/api/embeddings` form (`prompt`, answered with one `embedding`). */
export const isLegacyEmbed = (body: Json) => typeof body.prompt === 'string' && body.input === undefined;

export const ollamaEmbedClient: EmbedClientCodec = {
  toEmbed(ctx) {
    const b = ctx.body;
    const input = isLegacyEmbed(b) ? (b.prompt as string) : (b.input as string | string[]);
    return {
      model: ctx.upstreamModel,
      input,
      ...(typeof b.dimensions === 'number' ? { dimensions: b.dimensions } : {}),
    };
  },
  fromEmbed(res, ctx) {
    const vectors = res.data.map((d) => d.embedding);
    if (isLegacyEmbed(ctx.body)) return JSON.stringify({ embedding: vectors[0] ?? [] });
    return JSON.stringify({ model: ctx.publicModel, embeddings: vectors, prompt_eval_count: res.usage.prompt_tokens });
  },
};
