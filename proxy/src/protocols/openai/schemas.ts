/**
 * The OpenAI wire format: the client requests the OpenAI surface validates (chat and embeddings bodies are the
 * canonical forms, canonical/), and what an OpenAI-protocol upstream's non-streamed answers must carry for the
 * pass-through to relay them. Validation is permissive: types of the fields the gateway relies on and of well-known
 * fields are checked, every other field passes through untouched.
 */
import { z } from 'zod';
import { type ChatRequest, chatRequest, sampling } from '../canonical/chat.js';
import { type EmbeddingRequest, embeddingRequest } from '../canonical/embeddings.js';
import { type RerankRequest, rerankAnswer, rerankRequest } from './rerank.js';
import { type ResponsesRequest, responsesAnswer, responsesRequest } from './responses-schemas.js';

const tokenArray = z.array(z.number().int());

/** A legacy completions request (`POST /v1/completions`). */
export const completionRequest = z
  .object({
    ...sampling,
    prompt: z.union([z.string(), z.array(z.string()), tokenArray, z.array(tokenArray), z.null()]),
    echo: z.boolean().nullable().optional(),
    best_of: z.number().int().min(0).max(20).nullable().optional(),
    suffix: z.string().nullable().optional(),
  })
  .loose();

export type CompletionRequest = z.infer<typeof completionRequest>;

/** Request bodies of the OpenAI surface's operations. */
export interface OpenAIBodies {
  chat: ChatRequest;
  completions: CompletionRequest;
  embeddings: EmbeddingRequest;
  rerank: RerankRequest;
  responses: ResponsesRequest;
}

/** Schemas of the OpenAI surface's request bodies. */
export const OPENAI_REQUESTS = {
  chat: chatRequest,
  completions: completionRequest,
  embeddings: embeddingRequest,
  rerank: rerankRequest,
  responses: responsesRequest,
};

const content = z.string().nullish();

/** What each OpenAI-protocol answer must carry for the pass-through (a reply without it is malformed: 502). */
export const OPENAI_ANSWER = {
  chat: z.looseObject({ choices: z.array(z.looseObject({ message: z.looseObject({ content }) })) }),
  completions: z.looseObject({ choices: z.array(z.looseObject({ text: z.string() })) }),
  embeddings: z.looseObject({
    data: z.array(z.looseObject({ embedding: z.union([z.array(z.number()), z.string()]) })),
  }),
  rerank: rerankAnswer,
  responses: responsesAnswer,
};
