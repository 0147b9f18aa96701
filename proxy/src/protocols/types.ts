/**
 * The contracts between the pipeline and the protocols: an adapter serves one (operation, upstream protocol) pair —
 * it builds the upstream request from the client's typed body and translates the upstream answer back. Stream
 * translators keep their state per request.
 */
import type { z } from 'zod';
import type { BackendConfig } from '../../../shared/src/proxyconfig/index.js';
import type { GatewayError } from '../errors.js';
import type { Usage } from './canonical/usage.js';
import type { Operation } from './catalog.js';
import type { UpstreamHeaders } from './common/retry-after.js';
import type { SystemPrompt } from './common/system-prompt.js';
import type { RequestBodies } from './requests.js';

/** The request sent to an upstream endpoint. */
export interface UpstreamRequest {
  method: 'GET' | 'POST';
  /** Path appended to the endpoint's base URL path, e.g. `/chat/completions`. */
  path: string;
  headers: Record<string, string>;
  body?: string;
  /**
   * Client request fields the upstream cannot take and that were left out rather than refused (a reasoning effort
   * Anthropic would refuse with the request's sampling); the client learns of them in `x-switchyard-dropped`.
   */
  dropped?: readonly string[];
}

/** What an adapter needs besides the client's body: the call's facts and the attempt's backend. */
export interface AttemptContext {
  stream: boolean;
  /** Model name the client asked for (after route rewrite): reported back in answers. */
  publicModel: string;
  /** Model name the selected backend expects. */
  upstreamModel: string;
  backend: BackendConfig;
  /** Whether the client asked for usage in the stream (OpenAI `stream_options.include_usage`). */
  clientWantsUsage: boolean;
  /** Largest upstream stream event or NDJSON line (bytes; absent or 0: no limit). */
  maxEventBytes?: number;
  /** A client request header (lower-case name), e.g. `anthropic-version` for a native Anthropic pass-through. */
  header(name: string): string | undefined;
}

/** An attempt's context with the client's validated body of operation `O` (adapters must not mutate it). */
export interface AdapterContext<O extends Operation> extends AttemptContext {
  operation: O;
  body: RequestBodies[O];
}

/** A translated non-streamed answer: the client's bytes and the usage the upstream reported. */
export interface Translated {
  body: string | Buffer;
  usage?: Usage | undefined;
}

/** Reads a non-2xx upstream answer as a GatewayError (status mapped, message free of secrets). */
export type ErrorParser = (status: number, body: Buffer, headers: UpstreamHeaders, ctx: AttemptContext) => GatewayError;

/** Upstream stream bytes → client stream bytes, one instance per request. */
export interface StreamTranslator {
  /** Feeds one upstream chunk; returns what to send the client now ('' for nothing yet). Throws GatewayError for an upstream error event. */
  push(chunk: Buffer): string;
  /** Upstream ended: the final bytes, or a GatewayError when the stream did not complete properly. */
  end(): string | GatewayError;
  /**
   * The protocol's end marker arrived (`[DONE]`, `message_stop`, the `done` line): nothing after it is read or
   * relayed, and the relay ends the client's stream (with `end()`) without waiting for the upstream to close.
   */
  complete(): boolean;
  usage(): Usage | undefined;
  /**
   * The event that ends this stream with `err` after bytes reached the client, for streams whose events carry their
   * own error event (the Responses API's numbered `error` event); without it the surface's stream error is used.
   */
  errorEvent?(err: GatewayError): string | undefined;
}

/** Serves operation `O` from one upstream protocol. */
export interface Adapter<O extends Operation> {
  /** Content type of the client-facing stream. */
  streamContentType: string;
  buildRequest(ctx: AdapterContext<O>): UpstreamRequest;
  parseError: ErrorParser;
  translateResponse(body: Buffer, ctx: AdapterContext<O>): Translated;
  createStreamTranslator(ctx: AdapterContext<O>): StreamTranslator;
}

/** A pair that cannot be served, and why (the 400 a call gets before any attempt). */
export interface Unsupported {
  unsupported: string;
}

/** An error response in a surface's shape. */
export interface RenderedError {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** How a client surface shows errors. */
export interface ErrorShape {
  /** The error response; `requestId` is echoed where the API's errors carry one (Anthropic). */
  renderError(err: GatewayError, requestId?: string): RenderedError;
  /** The bytes that end a stream that failed after it began (no clean end marker follows). */
  streamError(err: GatewayError): string;
}

/** What the client side of a protocol knows about one of its operations' requests. */
export interface ClientOperation<O extends Operation> {
  /** Validates the client's body (a 400 names the first invalid field). */
  schema: z.ZodType<RequestBodies[O]>;
  /** Whether the client asked for a stream. */
  stream(body: RequestBodies[O]): boolean;
  /** Whether the client asked for usage in its stream (OpenAI `stream_options.include_usage`). */
  clientWantsUsage(body: RequestBodies[O]): boolean;
  /** Canonical prompt text (roles and text parts), for prefix-aware scheduling. */
  prompt(body: RequestBodies[O]): string | undefined;
  /** The body with a route's system prompt applied (a new object), or a 400 when the body cannot carry it. */
  withSystemPrompt(body: RequestBodies[O], p: SystemPrompt): RequestBodies[O];
}
