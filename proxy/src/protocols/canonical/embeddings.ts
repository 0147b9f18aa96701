/**
 * The canonical form of embeddings: OpenAI's embeddings request (also what the OpenAI surface validates) and answer.
 * Ollama clients and upstreams convert to and from these.
 */
import { z } from 'zod';

const tokenArray = z.array(z.number().int());

/** An embeddings request (the OpenAI surface's `POST /v1/embeddings` body). */
export const embeddingRequest = z
  .object({
    model: z.string().min(1),
    input: z.union([z.string(), z.array(z.string()).min(1), tokenArray.min(1), z.array(tokenArray).min(1)]),
    encoding_format: z.enum(['float', 'base64']).optional(),
    dimensions: z.number().int().min(1).optional(),
    user: z.string().optional(),
  })
  .loose();

export type EmbeddingRequest = z.infer<typeof embeddingRequest>;

/** An embeddings answer as the translators read it (vectors as floats, or base64 when the upstream encoded them). */
export const embeddingResponse = z.looseObject({
  data: z.array(z.looseObject({ embedding: z.union([z.array(z.number()), z.string()]) })),
  /** Untrusted: read with count(), checked before use. */
  usage: z.unknown().optional(),
});

export type EmbeddingResponse = z.infer<typeof embeddingResponse>;
