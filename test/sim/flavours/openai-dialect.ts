/**
 * Differences between servers speaking the OpenAI API: error shapes, ids, vendor-specific fields.
 * - vllm: current vLLM OpenAI server (`{"error":{"message","type":"BadRequestError","param","code":400}}`, `code` is
 *   the HTTP status; vLLM before the ErrorInfo change answered `{"object":"error","message",…}` flat — not modelled).
 *   With `--api-key`, a bad key gets `{"error":"Unauthorized"}`.
 * - openai: api.openai.com (`type` like `invalid_request_error`, `code` a string or null).
 * - llamacpp: llama.cpp server 0c1e570 (`{"error":{"code":400,"message","type":"invalid_request_error"}}`; answers
 *   carry `timings` and `prompt_tokens_details.cached_tokens`, chat choices no `logprobs`; a completion stream's last
 *   chunk carries usage and timings).
 * - ollama: Ollama's OpenAI-compatible endpoints.
 */
import { STATUS_CODES } from 'node:http';
import { type ErrorReply, jsonError } from './types.js';

/** One OpenAI-compatible server's particulars. */
export interface OpenAIDialect {
  readonly name: 'vllm' | 'openai' | 'llamacpp' | 'ollama';
  readonly ownedBy: string;
  /** Unknown model → 404 (llama.cpp answers whatever the model name). */
  readonly strictModel: boolean;
  readonly toolIdPrefix: string;
  readonly fingerprint: string | null;
  /** OpenAI sends `"usage":null` in every chunk when `include_usage` is set. */
  readonly usageNullInChunks: boolean;
  /** vLLM sends `data: [DONE]` even after an in-stream error. */
  readonly doneAfterError: boolean;
  readonly jsonType: string;
  /** llama.cpp: `timings` in answers, cached prompt tokens in usage, no `logprobs` in chat choices. */
  readonly llamacppExtras: boolean;
  error(status: number, message?: string, param?: string | null): ErrorReply;
}

function phraseType(status: number): string {
  const phrase = (STATUS_CODES[status] ?? 'Unknown').replace(/[^A-Za-z]/g, '').replace(/Error$/, '');
  return `${phrase}Error`;
}

const OPENAI_TYPES: Record<number, [string, string | null, string]> = {
  400: ['invalid_request_error', null, 'Invalid request'],
  401: [
    'invalid_request_error',
    'invalid_api_key',
    'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.',
  ],
  403: ['invalid_request_error', 'unsupported_country_region_territory', 'Forbidden'],
  404: ['invalid_request_error', 'model_not_found', 'The model does not exist or you do not have access to it.'],
  429: ['requests', 'rate_limit_exceeded', 'Rate limit reached for requests. Please try again later.'],
  500: ['server_error', null, 'The server had an error while processing your request. Sorry about that!'],
  503: ['server_error', null, 'The engine is currently overloaded, please try again later.'],
};

const LLAMA_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  500: 'server_error',
  501: 'not_supported_error',
  503: 'unavailable_error',
};

function defaultMessage(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
}

/** vLLM's OpenAI-compatible server. */
export const vllmDialect: OpenAIDialect = {
  name: 'vllm',
  ownedBy: 'vllm',
  strictModel: true,
  toolIdPrefix: 'chatcmpl-tool-',
  fingerprint: null,
  usageNullInChunks: false,
  doneAfterError: true,
  jsonType: 'application/json',
  llamacppExtras: false,
  error(status, message, param = null) {
    if (status === 401 && message === undefined) return jsonError(401, { error: 'Unauthorized' });
    const msg = message ?? (status === 503 ? 'Service Unavailable' : defaultMessage(status));
    return jsonError(status, { error: { message: msg, type: phraseType(status), param, code: status } });
  },
};

/** api.openai.com. */
export const openaiDialect: OpenAIDialect = {
  name: 'openai',
  ownedBy: 'openai',
  strictModel: true,
  toolIdPrefix: 'call_',
  fingerprint: 'fp_5151d55cd4',
  usageNullInChunks: true,
  doneAfterError: false,
  jsonType: 'application/json',
  llamacppExtras: false,
  error(status, message, param = null) {
    const [type, code, msg] = OPENAI_TYPES[status] ?? [status >= 500 ? 'server_error' : 'invalid_request_error', null];
    return jsonError(status, { error: { message: message ?? msg ?? defaultMessage(status), type, param, code } });
  },
};

/** llama.cpp `llama-server`. */
export const llamacppDialect: OpenAIDialect = {
  name: 'llamacpp',
  ownedBy: 'llamacpp',
  strictModel: false,
  toolIdPrefix: '',
  fingerprint: 'b6000-sim',
  usageNullInChunks: false,
  doneAfterError: false,
  jsonType: 'application/json; charset=utf-8',
  llamacppExtras: true,
  error(status, message) {
    const type = LLAMA_TYPES[status] ?? (status >= 500 ? 'server_error' : 'invalid_request_error');
    const msg =
      message ?? (status === 401 ? 'Invalid API Key' : status === 503 ? 'Loading model' : defaultMessage(status));
    return jsonError(status, { error: { code: status, message: msg, type } }, 'application/json; charset=utf-8');
  },
};

/** Ollama's `/v1/*` endpoints. */
export const ollamaDialect: OpenAIDialect = {
  name: 'ollama',
  ownedBy: 'library',
  strictModel: true,
  toolIdPrefix: 'call_',
  fingerprint: 'fp_ollama',
  usageNullInChunks: false,
  doneAfterError: false,
  jsonType: 'application/json',
  llamacppExtras: false,
  error(status, message, param = null) {
    const type = status >= 500 ? 'api_error' : 'invalid_request_error';
    return jsonError(status, { error: { message: message ?? defaultMessage(status), type, param, code: null } });
  },
};
