/**
 * The adapter table: for every operation (rows, grouped by surface) and every upstream protocol (columns), the
 * adapter that serves it, or why the pair cannot be served. The table's type makes it exhaustive: a new operation or
 * protocol fails to compile until its cells are written. Native pass-throughs serve a surface's own protocol;
 * every other cell composes a client half and an upstream half around the canonical form (canonical/compose.ts).
 */
import { anthropicClient } from './anthropic/client.js';
import { countTokensEstimate } from './anthropic/count-tokens.js';
import { anthropicPassthrough } from './anthropic/passthrough.js';
import { anthropicChatUpstream } from './anthropic/upstream.js';
import { chatAdapter, embedAdapter } from './canonical/compose.js';
import type { Operation, Protocol } from './catalog.js';
import { ollamaChatClient, ollamaEmbedClient, ollamaGenerateClient } from './ollama/client.js';
import { ollamaProbe } from './ollama/headers.js';
import { OLLAMA_PASSTHROUGH } from './ollama/passthrough.js';
import { ollamaChatUpstream, ollamaEmbedUpstream } from './ollama/upstream.js';
import { openAIChatClient } from './openai/client.js';
import { openAICompletionsClient } from './openai/completions.js';
import { openAIEmbedClient, openAIEmbedUpstream } from './openai/embeddings.js';
import { openAIPassthrough } from './openai/passthrough.js';
import { openAIChatUpstream, openAIProbe } from './openai/upstream.js';
import { openAIErrorParser } from './openai/upstream-errors.js';
import type { ClientRequest } from './requests.js';
import type { Adapter, AttemptContext, StreamTranslator, Translated, Unsupported, UpstreamRequest } from './types.js';

const NO_EMBEDDINGS: Unsupported = { unsupported: 'Anthropic has no embeddings API' };

/** Every (operation, upstream protocol) pair. */
export const ADAPTERS: { [O in Operation]: Record<Protocol, Adapter<O> | Unsupported> } = {
  // OpenAI surface
  chat: {
    openai: openAIPassthrough(),
    anthropic: chatAdapter(openAIChatClient, anthropicChatUpstream),
    ollama: chatAdapter(openAIChatClient, ollamaChatUpstream),
  },
  completions: {
    openai: openAIPassthrough(),
    anthropic: chatAdapter(openAICompletionsClient, anthropicChatUpstream),
    ollama: chatAdapter(openAICompletionsClient, ollamaChatUpstream),
  },
  embeddings: {
    openai: openAIPassthrough(),
    anthropic: NO_EMBEDDINGS,
    ollama: embedAdapter(openAIEmbedClient, ollamaEmbedUpstream),
  },
  // Anthropic surface (count_tokens: estimated locally where the upstream has no Anthropic tokenizer)
  messages: {
    openai: chatAdapter(anthropicClient, openAIChatUpstream),
    anthropic: anthropicPassthrough(),
    ollama: chatAdapter(anthropicClient, ollamaChatUpstream),
  },
  count_tokens: {
    openai: countTokensEstimate(openAIProbe, openAIErrorParser),
    anthropic: anthropicPassthrough(),
    ollama: countTokensEstimate(ollamaProbe, openAIErrorParser),
  },
  // Ollama surface
  ollama_chat: {
    openai: chatAdapter(ollamaChatClient, openAIChatUpstream),
    anthropic: chatAdapter(ollamaChatClient, anthropicChatUpstream),
    ollama: OLLAMA_PASSTHROUGH.ollama_chat,
  },
  ollama_generate: {
    openai: chatAdapter(ollamaGenerateClient, openAIChatUpstream),
    anthropic: chatAdapter(ollamaGenerateClient, anthropicChatUpstream),
    ollama: OLLAMA_PASSTHROUGH.ollama_generate,
  },
  ollama_embed: {
    openai: embedAdapter(ollamaEmbedClient, openAIEmbedUpstream),
    anthropic: NO_EMBEDDINGS,
    ollama: OLLAMA_PASSTHROUGH.ollama_embed,
  },
};

/** An adapter bound to one request's body: what an attempt calls, whatever the operation. */
export interface BoundAdapter {
  streamContentType: string;
  buildRequest(ctx: AttemptContext): UpstreamRequest;
  parseError: Adapter<Operation>['parseError'];
  translateResponse(body: Buffer, ctx: AttemptContext): Translated;
  createStreamTranslator(ctx: AttemptContext): StreamTranslator;
}

const isUnsupported = (cell: object): cell is Unsupported => 'unsupported' in cell;

/** Whether `protocol` can serve `operation` (the table's cell is an adapter). */
export function serves(operation: Operation, protocol: Protocol): boolean {
  return !isUnsupported(ADAPTERS[operation][protocol]);
}

/** The adapter serving `request` from `protocol`, bound to its body; undefined when the pair cannot be served. */
export function bindAdapter<O extends Operation>(
  request: ClientRequest<O>,
  protocol: Protocol,
): BoundAdapter | undefined {
  const cell = ADAPTERS[request.operation][protocol];
  if (isUnsupported(cell)) return undefined;
  const at = (ctx: AttemptContext) => ({ ...ctx, operation: request.operation, body: request.body });
  return {
    streamContentType: cell.streamContentType,
    buildRequest: (ctx) => cell.buildRequest(at(ctx)),
    parseError: cell.parseError,
    translateResponse: (body, ctx) => cell.translateResponse(body, at(ctx)),
    createStreamTranslator: (ctx) => cell.createStreamTranslator(at(ctx)),
  };
}
