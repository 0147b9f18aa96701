/** OpenAI-protocol upstream errors → GatewayError, keeping status semantics and scrubbing secrets. */
import { type ErrorKind, errors, GatewayError, LOADING_RETRY_AFTER_MS } from '../../errors.js';
import { isRecord } from '../common/json.js';
import { retryAfterMs, type UpstreamHeaders } from '../common/retry-after.js';
import { scrubSecrets, upstreamCode } from '../common/secrets.js';
import type { ErrorParser } from '../types.js';

const KIND_BY_STATUS: Record<number, ErrorKind> = {
  400: 'invalid_request',
  404: 'not_found',
  413: 'request_too_large',
  422: 'invalid_request',
  429: 'rate_limit',
};

/**
 * Extracts message/type/param/code from OpenAI (`{error:{...}}`), vLLM (`{object:'error',...}`) or text bodies.
 * llama.cpp's 503 `{"error":{"message":"Loading model","type":"unavailable_error"}}` (every path while its model
 * loads) becomes the `upstream_loading` 503, with a Retry-After. Ollama errors (`{"error":"…"}`) read the same way.
 */
export function parseOpenAIError(
  status: number,
  body: Buffer,
  headers: UpstreamHeaders,
  apiKey?: string,
): GatewayError {
  let message = body.toString('utf8') || `upstream answered ${status}`;
  let param: string | null = null;
  let code: string | null = null;
  let type: unknown;
  try {
    const j: unknown = JSON.parse(message);
    if (isRecord(j)) {
      const e = isRecord(j.error) ? j.error : j;
      if (typeof e.message === 'string') message = e.message;
      else if (typeof j.error === 'string') message = j.error;
      if (typeof e.param === 'string') param = scrubSecrets(e.param, apiKey, 128);
      code = upstreamCode(e.code, null);
      type = e.type;
    }
  } catch {
    // not JSON: keep the text
  }
  message = scrubSecrets(message, apiKey);
  const retryAfter = retryAfterMs(headers);
  if (status === 503 && type === 'unavailable_error' && message === 'Loading model')
    return errors.loading('the upstream is still loading its model', retryAfter ?? LOADING_RETRY_AFTER_MS);
  const opts = { param, code, ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}) };
  if (status === 401 || status === 403) {
    return new GatewayError(502, 'upstream', `upstream rejected the gateway's credentials (${status}): ${message}`, {
      code: 'upstream_auth_failed',
    });
  }
  if (status >= 500)
    return new GatewayError(status === 504 ? 504 : 502, 'upstream', `upstream error ${status}: ${message}`, {
      ...opts,
      code: code ?? 'upstream_error',
    });
  return new GatewayError(status, KIND_BY_STATUS[status] ?? 'invalid_request', message, opts);
}

/** The error parser of OpenAI-protocol (and Ollama) upstreams, with the backend's key scrubbed. */
export const openAIErrorParser: ErrorParser = (status, body, headers, ctx) =>
  parseOpenAIError(status, body, headers, ctx.backend.apiKey);
