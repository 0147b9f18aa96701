/**
 * Adapters involving the Ollama protocol on either side: Ollama clients of Ollama upstreams (native pass-through),
 * of OpenAI-protocol and of Anthropic upstreams; OpenAI and Anthropic clients of Ollama upstreams (translated
 * through canonical chat; Anthropic count_tokens estimated locally).
 */
import { anthropicClient, countTokensEstimate } from '../../surfaces/anthropic/codec.js';
import {
  isLegacyEmbed,
  ollamaChatClient,
  ollamaEmbedClient,
  ollamaGenerateClient,
} from '../../surfaces/ollama/codec.js';
import { chatAdapter } from '../../translation/codec.js';
import { openAICompletionsClient } from '../../translation/completions-codec.js';
import {
  embedAdapter,
  ollamaEmbedUpstream,
  openAIEmbedClient,
  openAIEmbedUpstream,
} from '../../translation/embed-codec.js';
import { openAIChatClient, openAIChatUpstream } from '../../translation/openai-codecs.js';
import { anthropicChatUpstream } from '../anthropic/codec.js';
import { parseOpenAIError } from '../openai/errors.js';
import { registerAdapter } from '../registry.js';
import { ollamaChatUpstream } from './codec.js';
import { ollamaPassthrough } from './passthrough.js';
import { OLLAMA_ANSWER, OLLAMA_PATHS, ollamaHeaders } from './request.js';

registerAdapter(
  ['ollama/ollama/ollama_chat'],
  ollamaPassthrough(
    () => OLLAMA_PATHS.chat,
    () => OLLAMA_ANSWER.chat,
  ),
);
registerAdapter(
  ['ollama/ollama/ollama_generate'],
  ollamaPassthrough(
    () => OLLAMA_PATHS.generate,
    () => OLLAMA_ANSWER.generate,
  ),
);
registerAdapter(
  ['ollama/ollama/ollama_embed'],
  ollamaPassthrough(
    (ctx) => (isLegacyEmbed(ctx.body) ? OLLAMA_PATHS.embeddings : OLLAMA_PATHS.embed),
    (ctx) => (isLegacyEmbed(ctx.body) ? OLLAMA_ANSWER.embeddings : OLLAMA_ANSWER.embed),
  ),
);

registerAdapter(['ollama/openai/ollama_chat'], chatAdapter(ollamaChatClient, openAIChatUpstream));
registerAdapter(['ollama/openai/ollama_generate'], chatAdapter(ollamaGenerateClient, openAIChatUpstream));
registerAdapter(['ollama/openai/ollama_embed'], embedAdapter(ollamaEmbedClient, openAIEmbedUpstream));
registerAdapter(['ollama/anthropic/ollama_chat'], chatAdapter(ollamaChatClient, anthropicChatUpstream));
registerAdapter(['ollama/anthropic/ollama_generate'], chatAdapter(ollamaGenerateClient, anthropicChatUpstream));

registerAdapter(['openai/ollama/chat'], chatAdapter(openAIChatClient, ollamaChatUpstream));
registerAdapter(['openai/ollama/completions'], chatAdapter(openAICompletionsClient, ollamaChatUpstream));
registerAdapter(['openai/ollama/embeddings'], embedAdapter(openAIEmbedClient, ollamaEmbedUpstream));
registerAdapter(['anthropic/ollama/messages'], chatAdapter(anthropicClient, ollamaChatUpstream));
registerAdapter(
  ['anthropic/ollama/count_tokens'],
  countTokensEstimate(
    (ctx) => ({ method: 'GET', path: OLLAMA_PATHS.version, headers: ollamaHeaders(ctx, false) }),
    (status, body, headers, ctx) => parseOpenAIError(status, body, headers, ctx.backend.apiKey),
  ),
);
