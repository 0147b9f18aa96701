/** Anthropic upstream errors (`{"type":"error","error":{"type","message"}}`) → GatewayError, secrets scrubbed. */
import { type ErrorKind, GatewayError } from '../../errors.js';
import { isRecord, type Json } from '../common/json.js';
import { retryAfterMs, type UpstreamHeaders } from '../common/retry-after.js';
import { scrubSecrets, upstreamCode } from '../common/secrets.js';
import type { ErrorParser } from '../types.js';

const KIND_BY_STATUS: Record<number, ErrorKind> = {
  400: 'invalid_request',
  404: 'not_found',
  413: 'request_too_large',
  429: 'rate_limit',
};

/**
 * Maps an Anthropic error answer. 529 (overloaded) stays 529 for Anthropic clients (`keep529`) and becomes 503 for
 * others, whose SDKs do not know 529; 401/403 mean the gateway's own credential was refused (502).
 */
export function parseAnthropicError(
  status: number,
  body: Buffer,
  headers: UpstreamHeaders,
  apiKey: string | undefined,
  keep529: boolean,
): GatewayError {
  let message = body.toString('utf8') || `upstream answered ${status}`;
  let type: string | null = null;
  try {
    const j: unknown = JSON.parse(message);
    const e: Json = isRecord(j) && isRecord(j.error) ? j.error : {};
    if (typeof e.message === 'string') message = e.message;
    type = upstreamCode(e.type, null);
  } catch {
    // not JSON: keep the text
  }
  message = scrubSecrets(message, apiKey);
  const retryAfter = retryAfterMs(headers);
  const opts = { code: type, ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}) };
  if (status === 401 || status === 403)
    return new GatewayError(502, 'upstream', `upstream rejected the gateway's credentials (${status}): ${message}`, {
      code: 'upstream_auth_failed',
    });
  if (status === 529 || type === 'overloaded_error')
    return new GatewayError(keep529 ? 529 : 503, 'overloaded', `upstream overloaded: ${message}`, opts);
  if (status >= 500)
    return new GatewayError(
      status === 504 ? 504 : 502,
      status === 504 ? 'timeout' : 'upstream',
      `upstream error ${status}: ${message}`,
      {
        ...opts,
        code: type ?? 'upstream_error',
      },
    );
  return new GatewayError(status, KIND_BY_STATUS[status] ?? 'invalid_request', message, opts);
}

/** Errors of an Anthropic upstream for an Anthropic client: a 529 stays 529. */
export const anthropicNativeErrorParser: ErrorParser = (status, body, headers, ctx) =>
  parseAnthropicError(status, body, headers, ctx.backend.apiKey, true);

/** Errors of an Anthropic upstream for clients of other surfaces: a 529 becomes 503. */
export const anthropicErrorParser: ErrorParser = (status, body, headers, ctx) =>
  parseAnthropicError(status, body, headers, ctx.backend.apiKey, false);
