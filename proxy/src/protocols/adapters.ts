/**
 * The adapter table: for every operation (rows, grouped by surface) and every upstream protocol (columns), the
 * adapter that serves it, or why the pair cannot be served. The table's type makes it exhaustive: a new operation or
 * protocol fails to compile until its cells are written. Native pass-throughs serve a surface's own protocol;
 * every other cell composes a client half and an upstream half around the canonical form (canonical/compose.ts).
 * Where provider kinds of one protocol differ in what they serve (OpenAI has no rerank API), a cell names the
 * providers that differ and what serves every other one.
 */

import type { Provider } from '../../../shared/src/api/v1alpha1/index.js';
import { anthropicClient } from './anthropic/client.js';
import { countTokensEstimate } from './anthropic/count-tokens.js';
import { anthropicPassthrough } from './anthropic/passthrough.js';
import { anthropicChatUpstream } from './anthropic/upstream.js';
import { chatAdapter, embedAdapter } from './canonical/compose.js';
import { type Operation, PROTOCOL_OF, type Protocol } from './catalog.js';
import { ollamaChatClient, ollamaEmbedClient, ollamaGenerateClient } from './ollama/client.js';
import { ollamaProbe } from './ollama/headers.js';
import { OLLAMA_PASSTHROUGH } from './ollama/passthrough.js';
import { ollamaChatUpstream, ollamaEmbedUpstream } from './ollama/upstream.js';
import { openAIChatClient } from './openai/client.js';
import { openAICompletionsClient } from './openai/completions.js';
import { openAIEmbedClient, openAIEmbedUpstream } from './openai/embeddings.js';
import { openAIPassthrough } from './openai/passthrough.js';
import { openAIResponsesClient } from './openai/responses-client.js';
import { responsesPassthrough } from './openai/responses-passthrough.js';
import { openAIChatUpstream, openAIProbe } from './openai/upstream.js';
import { openAIErrorParser } from './openai/upstream-errors.js';
import type { ClientRequest } from './requests.js';
import type { Adapter, AttemptContext, StreamTranslator, Translated, Unsupported, UpstreamRequest } from './types.js';

const NO_EMBEDDINGS: Unsupported = { unsupported: 'Anthropic has no embeddings API' };
const NO_RERANK: Unsupported = { unsupported: 'the provider has no rerank API' };

/** A cell whose providers differ: `providers` name the ones served otherwise than `other`. */
export interface ByProvider<O extends Operation> {
  providers: Partial<Record<Provider, Adapter<O> | Unsupported>>;
  other: Adapter<O> | Unsupported;
}

/** One cell of the table. */
export type Cell<O extends Operation> = Adapter<O> | Unsupported | ByProvider<O>;

/** Every (operation, upstream protocol) pair. */
export const ADAPTERS: { [O in Operation]: Record<Protocol, Cell<O>> } = {
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
  // Jina/Cohere-style rerank, served by vLLM and llama.cpp (and OpenAI-compatible servers that have it).
  rerank: {
    openai: { providers: { openai: NO_RERANK }, other: openAIPassthrough() },
    anthropic: NO_RERANK,
    ollama: NO_RERANK,
  },
  // The Responses API: passed through to the providers that serve it themselves, translated to chat for the rest
  // (llama.cpp's own /v1/responses is a converter to its chat endpoint whose events lack fields the API requires).
  responses: {
    openai: {
      providers: { vllm: responsesPassthrough(), openai: responsesPassthrough() },
      other: chatAdapter(openAIResponsesClient, openAIChatUpstream),
    },
    anthropic: chatAdapter(openAIResponsesClient, anthropicChatUpstream),
    ollama: chatAdapter(openAIResponsesClient, ollamaChatUpstream),
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

/** The adapter serving `operation` from a backend of `provider`, or why it cannot be served. */
export function cellFor<O extends Operation>(operation: O, provider: Provider): Adapter<O> | Unsupported {
  const cell: Cell<O> = ADAPTERS[operation][PROTOCOL_OF[provider]];
  return 'other' in cell ? (cell.providers[provider] ?? cell.other) : cell;
}

/** Whether a backend of `provider` can serve `operation` (its cell is an adapter). */
export function serves(operation: Operation, provider: Provider): boolean {
  return !isUnsupported(cellFor(operation, provider));
}

/** The adapter serving `request` from a backend of `provider`, bound to its body; undefined when it cannot. */
export function bindAdapter<O extends Operation>(
  request: ClientRequest<O>,
  provider: Provider,
): BoundAdapter | undefined {
  const cell = cellFor(request.operation, provider);
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
