/** Ollama API objects, as far as the translators read or write them. Types only. */

export interface OllamaToolCall {
  function: { name: string; arguments: Record<string, unknown>; index?: number };
  id?: string;
}

export interface OllamaMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  images?: string[];
  tool_calls?: OllamaToolCall[];
  tool_name?: string;
  thinking?: string;
}

export interface OllamaChatRequest {
  model: string;
  messages: OllamaMessage[];
  tools?: unknown[];
  format?: 'json' | Record<string, unknown>;
  options?: Record<string, unknown>;
  stream?: boolean;
  keep_alive?: string | number;
  think?: boolean | string;
  [key: string]: unknown;
}

export interface OllamaGenerateRequest {
  model: string;
  prompt?: string;
  system?: string;
  images?: string[];
  format?: 'json' | Record<string, unknown>;
  options?: Record<string, unknown>;
  stream?: boolean;
  [key: string]: unknown;
}

/** One NDJSON line of a chat/generate stream, or a whole non-streamed answer. */
export interface OllamaAnswer {
  model?: string;
  created_at?: string;
  message?: Partial<OllamaMessage>;
  response?: string;
  thinking?: string;
  done?: boolean;
  done_reason?: string;
  prompt_eval_count?: number;
  eval_count?: number;
  error?: string;
  [key: string]: unknown;
}
