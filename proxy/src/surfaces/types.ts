/** A client-facing API surface (OpenAI, Anthropic, Ollama): how errors and stream failures look to its clients. */
import type { GatewayError } from '../errors.js';

export type SurfaceName = 'openai' | 'anthropic' | 'ollama';

/** What the proxy runs for a request: one client API operation. */
export type Operation =
  | 'chat'
  | 'completions'
  | 'embeddings'
  | 'messages'
  | 'count_tokens'
  | 'ollama_chat'
  | 'ollama_generate'
  | 'ollama_embed';

export interface RenderedError {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface Surface {
  name: SurfaceName;
  /** The error response in this surface's shape; `requestId` is echoed where the API's errors carry one (Anthropic). */
  renderError(err: GatewayError, requestId?: string): RenderedError;
  /** The bytes that end a stream that failed after it began (no clean end marker follows). */
  streamError(err: GatewayError): string;
}
