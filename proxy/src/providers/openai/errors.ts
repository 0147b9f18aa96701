/** OpenAI-protocol upstream errors → GatewayError, keeping status semantics and scrubbing secrets. */
import { type ErrorKind, errors, GatewayError, LOADING_RETRY_AFTER_MS } from '../../errors.js';
import { scrubSecrets, upstreamCode } from '../secrets.js';

type Headers = Record<string, string | string[] | undefined>;

/** Longest Retry-After taken from an upstream (an hour): a larger or malformed value is not believed. */
export const MAX_UPSTREAM_RETRY_AFTER_MS = 3_600_000;

const sane = (ms: number): number | undefined =>
  Number.isFinite(ms) && ms >= 0 ? Math.min(Math.round(ms), MAX_UPSTREAM_RETRY_AFTER_MS) : undefined;

/**
 * Milliseconds from `retry-after-ms` or `retry-after` (seconds or HTTP date), if present and sane: negative,
 * non-numeric and non-finite values are ignored, huge ones capped. The client only ever sees this number, re-encoded
 * by the gateway — never the upstream's header text.
 */
export function retryAfterMs(headers: Headers): number | undefined {
  const msHeader = headers['retry-after-ms'];
  const ms = typeof msHeader === 'string' && msHeader.trim() !== '' ? sane(Number(msHeader)) : undefined;
  if (ms !== undefined) return ms;
  const ra = headers['retry-after'];
  if (typeof ra !== 'string' || ra.trim() === '') return undefined;
  const s = Number(ra);
  if (!Number.isNaN(s)) return sane(s * 1000);
  const date = Date.parse(ra);
  return Number.isNaN(date) ? undefined : sane(Math.max(0, date - Date.now()));
}

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
 * loads) becomes the `upstream_loading` 503, with a Retry-After.
 */
export function parseOpenAIError(status: number, body: Buffer, headers: Headers, apiKey?: string): GatewayError {
  let message = body.toString('utf8') || `upstream answered ${status}`;
  let param: string | null = null;
  let code: string | null = null;
  let type: unknown;
  try {
    const j = JSON.parse(message) as { error?: unknown; message?: unknown; param?: unknown; code?: unknown };
    const e = (typeof j.error === 'object' && j.error !== null ? j.error : j) as Record<string, unknown>;
    if (typeof e.message === 'string') message = e.message;
    else if (typeof j.error === 'string') message = j.error;
    if (typeof e.param === 'string') param = scrubSecrets(e.param, apiKey, 128);
    code = upstreamCode(e.code, null);
    type = e.type;
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
