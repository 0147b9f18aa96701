/**
 * Adapters involving the Anthropic protocol on either side (Ollama ↔ Anthropic pairs live in providers/ollama):
 * Anthropic clients of Anthropic upstreams (native pass-through), OpenAI chat clients of Anthropic upstreams, and
 * Anthropic clients of OpenAI-protocol upstreams (translated; count_tokens estimated locally).
 */
import { anthropicClient, countTokensEstimate } from '../../surfaces/anthropic/codec.js';
import { chatAdapter } from '../../translation/codec.js';
import { openAICompletionsClient } from '../../translation/completions-codec.js';
import { openAIChatClient, openAIChatUpstream } from '../../translation/openai-codecs.js';
import { parseOpenAIError } from '../openai/errors.js';
import { openAIHeaders } from '../openai/request.js';
import { registerAdapter } from '../registry.js';
import { anthropicChatUpstream } from './codec.js';
import { anthropicCountTokensPassthrough, anthropicMessagesPassthrough } from './passthrough.js';

registerAdapter(['anthropic/anthropic/messages'], anthropicMessagesPassthrough);
registerAdapter(['anthropic/anthropic/count_tokens'], anthropicCountTokensPassthrough);
registerAdapter(['openai/anthropic/chat'], chatAdapter(openAIChatClient, anthropicChatUpstream));
registerAdapter(['openai/anthropic/completions'], chatAdapter(openAICompletionsClient, anthropicChatUpstream));
registerAdapter(['anthropic/openai/messages'], chatAdapter(anthropicClient, openAIChatUpstream));
registerAdapter(
  ['anthropic/openai/count_tokens'],
  countTokensEstimate(
    (ctx) => ({ method: 'GET', path: '/models', headers: openAIHeaders(ctx, false) }),
    (status, body, headers, ctx) => parseOpenAIError(status, body, headers, ctx.backend.apiKey),
  ),
);
