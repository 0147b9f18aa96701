/** OpenAI-protocol upstream errors → GatewayError, keeping status semantics and scrubbing secrets. */
import { type ErrorKind, GatewayError } from '../../errors.js';
import { scrubSecrets } from '../secrets.js';

type Headers = Record<string, string | string[] | undefined>;

/** Milliseconds from `retry-after-ms` or `retry-after` (seconds or HTTP date), if present. */
export function retryAfterMs(headers: Headers): number | undefined {
  const ms = Number(headers['retry-after-ms']);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const ra = headers['retry-after'];
  if (typeof ra !== 'string') return undefined;
  const s = Number(ra);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const date = Date.parse(ra);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

const KIND_BY_STATUS: Record<number, ErrorKind> = {
  400: 'invalid_request',
  404: 'not_found',
  413: 'request_too_large',
  422: 'invalid_request',
  429: 'rate_limit',
};

/** Extracts message/type/param/code from OpenAI (`{error:{...}}`), vLLM (`{object:'error',...}`) or text bodies. */
export function parseOpenAIError(status: number, body: Buffer, headers: Headers, apiKey?: string): GatewayError {
  let message = body.toString('utf8').slice(0, 2000) || `upstream answered ${status}`;
  let param: string | null = null;
  let code: string | null = null;
  try {
    const j = JSON.parse(message) as { error?: unknown; message?: unknown; param?: unknown; code?: unknown };
    const e = (typeof j.error === 'object' && j.error !== null ? j.error : j) as Record<string, unknown>;
    if (typeof e.message === 'string') message = e.message;
    else if (typeof j.error === 'string') message = j.error;
    if (typeof e.param === 'string') param = e.param;
    if (typeof e.code === 'string') code = e.code;
  } catch {
    // not JSON: keep the text
  }
  message = scrubSecrets(message, apiKey);
  const retryAfter = retryAfterMs(headers);
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
