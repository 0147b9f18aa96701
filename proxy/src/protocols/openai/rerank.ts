/**
 * Rerank (`POST /v1/rerank`): the Jina/Cohere-style request and answer that vLLM and llama.cpp serve — a query, the
 * documents to rank, and the answer's results ordered by relevance. Served by pass-through only: the gateway has no
 * canonical form for it, and no upstream protocol but OpenAI-compatible servers ranks documents.
 */
import { z } from 'zod';

/** A document: plain text, or an object (`{text}`; vLLM also takes multimodal content parts). */
const rerankDocument = z.union([z.string(), z.looseObject({})]);

/** A rerank request. */
export const rerankRequest = z
  .object({
    model: z.string().min(1),
    query: z.union([z.string(), z.looseObject({})]),
    documents: z.array(rerankDocument).min(1),
    top_n: z.number().int().min(0).nullable().optional(),
    return_documents: z.boolean().nullable().optional(),
  })
  .loose();

export type RerankRequest = z.infer<typeof rerankRequest>;

/** What a rerank answer must carry for the pass-through to relay it (a reply without it is malformed: 502). */
export const rerankAnswer = z.looseObject({
  results: z.array(z.looseObject({ index: z.number().int().min(0), relevance_score: z.number() })),
});
