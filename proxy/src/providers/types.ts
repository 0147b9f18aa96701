/**
 * Provider adapters: one per (surface, upstream protocol, operation). An adapter builds the upstream request from
 * the client's body and translates the upstream answer back. Stream translators keep their state per request.
 */
import type { BackendConfig } from '../../../shared/src/proxyconfig/index.js';
import type { GatewayError } from '../errors.js';
import type { Operation, SurfaceName } from '../surfaces/types.js';

/** Wire protocols upstreams speak; several provider kinds share one (vllm, llamacpp, openai → openai). */
export type Protocol = 'openai' | 'anthropic' | 'ollama';

/** Token usage in neutral terms: input includes cached tokens. */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens?: number;
}

export interface AdapterContext {
  operation: Operation;
  /** The client's request body (surface format), validated; adapters must not mutate it. */
  body: Record<string, unknown>;
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
  header?(name: string): string | undefined;
}

export interface UpstreamRequest {
  method: 'GET' | 'POST';
  /** Path appended to the endpoint's base URL path, e.g. `/chat/completions`. */
  path: string;
  headers: Record<string, string>;
  body?: string;
}

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
}

export interface Adapter {
  /** Content type of the client-facing stream. */
  streamContentType: string;
  buildRequest(ctx: AdapterContext): UpstreamRequest;
  /** A non-2xx upstream answer as a GatewayError (status mapped, message free of secrets). */
  parseError(
    status: number,
    body: Buffer,
    headers: Record<string, string | string[] | undefined>,
    ctx: AdapterContext,
  ): GatewayError;
  translateResponse(body: Buffer, ctx: AdapterContext): { body: string | Buffer; usage?: Usage };
  createStreamTranslator(ctx: AdapterContext): StreamTranslator;
}

export type AdapterKey = `${SurfaceName}/${Protocol}/${Operation}`;
