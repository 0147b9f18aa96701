/** The typed body of every operation, and a client request: an operation with its body, correlated by type. */
import type { AnthropicBodies } from './anthropic/schemas.js';
import type { Operation } from './catalog.js';
import type { OllamaBodies } from './ollama/schemas.js';
import type { OpenAIBodies } from './openai/schemas.js';

/** The validated request body of each operation (the types inferred from the protocols' zod schemas). */
export interface RequestBodies extends OpenAIBodies, AnthropicBodies, OllamaBodies {}

/**
 * A client request of operation `O`: `operation` and `body` correlated, so code generic in `O` reads the body of
 * its operation (tables keyed by operation index it without casts).
 */
export type ClientRequest<O extends Operation = Operation> = {
  [K in O]: { readonly operation: K; readonly body: RequestBodies[K] };
}[O];
