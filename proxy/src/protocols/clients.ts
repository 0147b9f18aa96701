/**
 * The client side of every operation and surface, as tables keyed by name: what the proxy knows about a request of
 * each operation (validation, stream and usage flags, prompt text, system prompts) and each surface's error shape.
 */

import type { GatewayError } from '../errors.js';
import { anthropicErrors } from './anthropic/client-errors.js';
import { ANTHROPIC_OPERATIONS } from './anthropic/operations.js';
import type { Operation, SurfaceName } from './catalog.js';
import type { SystemPrompt } from './common/system-prompt.js';
import { ollamaErrors } from './ollama/client-errors.js';
import { OLLAMA_OPERATIONS } from './ollama/operations.js';
import { openAIErrors } from './openai/client-errors.js';
import { OPENAI_OPERATIONS } from './openai/operations.js';
import { responsesErrorEvent } from './openai/responses-stream.js';
import type { ClientRequest } from './requests.js';
import type { ClientOperation, ErrorShape } from './types.js';

/** Every operation's client side. */
export const CLIENT_OPERATIONS: { [O in Operation]: ClientOperation<O> } = {
  ...OPENAI_OPERATIONS,
  ...ANTHROPIC_OPERATIONS,
  ...OLLAMA_OPERATIONS,
};

/** Every surface's error shape. */
export const ERROR_SHAPES: Record<SurfaceName, ErrorShape> = {
  openai: openAIErrors,
  anthropic: anthropicErrors,
  ollama: ollamaErrors,
};

/**
 * The event ending a client's stream of `operation` with `err`: the Responses API's own numbered `error` event
 * (`sequence` is the stream's next number), else the surface's stream error.
 */
export function clientStreamError(
  operation: Operation,
  surface: SurfaceName,
  err: GatewayError,
  sequence: number,
): string {
  return operation === 'responses' ? responsesErrorEvent(err, sequence) : ERROR_SHAPES[surface].streamError(err);
}

/** What a request says about itself: whether it streams, wants usage in its stream, and its prompt text. */
export interface RequestFacts {
  stream: boolean;
  clientWantsUsage: boolean;
  prompt: string | undefined;
}

/** The facts of `request`. */
export function requestFacts<O extends Operation>(request: ClientRequest<O>): RequestFacts {
  const op = CLIENT_OPERATIONS[request.operation];
  return {
    stream: op.stream(request.body),
    clientWantsUsage: op.clientWantsUsage(request.body),
    prompt: op.prompt(request.body),
  };
}

/** `request` with a route's system prompt applied (a new request), or a 400 when its body cannot carry it. */
export function withSystemPrompt<O extends Operation>(request: ClientRequest<O>, p: SystemPrompt): ClientRequest<O> {
  return { operation: request.operation, body: CLIENT_OPERATIONS[request.operation].withSystemPrompt(request.body, p) };
}
