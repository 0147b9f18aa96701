/** What a flavour (one impersonated server) provides to the generic server. */
import type { IncomingHttpHeaders } from 'node:http';
import type { Exchange } from '../exchange.js';
import type { Flavour } from '../types.js';

/** Handles one request; it must answer (or hang) through the exchange. */
export type Handler = (ex: Exchange) => Promise<void> | void;

/** A protocol route. */
export interface Route {
  handler: Handler;
  /** Generation/embedding endpoint: instance faults apply here by default. */
  inference?: boolean;
  /** Reachable without the API key. */
  public?: boolean;
  /** Answered normally while the server is loading (e.g. vLLM `/metrics`). */
  whileLoading?: boolean;
  /** Error shape of this route when it differs from the flavour's (Ollama's OpenAI-compatible `/v1/*`). */
  error?: (status: number, message?: string, param?: string | null) => ErrorReply;
}

/** A complete error answer in the flavour's shape. */
export interface ErrorReply {
  status: number;
  body: string;
  contentType: string;
  headers?: Record<string, string>;
}

/** One impersonated server. */
export interface FlavourDef {
  readonly name: Flavour;
  /** Keyed `"<METHOD> <path>"`. */
  readonly routes: ReadonlyMap<string, Route>;
  /** `content-type` of JSON answers. */
  readonly jsonType: string;
  /** Headers added to every answer (e.g. `server`). */
  readonly baseHeaders: Readonly<Record<string, string>>;
  /** Per-answer headers (e.g. Anthropic's `request-id`); error replies may override them. */
  readonly answerHeaders?: () => Record<string, string>;
  /** Streaming answers send their headers before the first token (vLLM, llama.cpp). */
  readonly earlyStreamHeaders: boolean;
  /** Add `retry-after-ms` next to `Retry-After` (OpenAI). */
  readonly retryAfterMs: boolean;
  /** Status used when the waiting queue is full. */
  readonly overloadStatus: number;
  /** An error in the flavour's shape; without `message` the flavour's usual one for that status. */
  error(status: number, message?: string, param?: string | null): ErrorReply;
  /** Unknown path. */
  notFound(method: string, path: string): ErrorReply;
  /** Prompt + completion exceed the context (the prompt alone with `promptOnlyContext`). */
  contextLengthError(promptTokens: number, completionTokens: number, limit: number): ErrorReply;
  /**
   * Only a prompt longer than the context is refused; a longer completion is cut at the context's end (vLLM 0.34
   * clamps max_tokens, llama.cpp stops generating with `length`). Otherwise prompt + max_tokens must fit.
   */
  readonly promptOnlyContext?: boolean;
  /** A body that is not JSON (default: a 400 in the flavour's shape). */
  badJson?(): ErrorReply;
  /** Whether the request carries `key` the way this vendor expects it. */
  authorized(headers: IncomingHttpHeaders, key: string): boolean;
}

/** Serialises an error body as JSON with the flavour's content type. */
export function jsonError(
  status: number,
  body: unknown,
  contentType = 'application/json',
  headers?: Record<string, string>,
): ErrorReply {
  return headers
    ? { status, body: JSON.stringify(body), contentType, headers }
    : { status, body: JSON.stringify(body), contentType };
}

/** `Authorization: Bearer <key>` matches. */
export function bearerMatches(headers: IncomingHttpHeaders, key: string): boolean {
  return headers.authorization === `Bearer ${key}`;
}
