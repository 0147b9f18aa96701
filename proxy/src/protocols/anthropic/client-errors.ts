/**
 * The Anthropic surface's error shape: `{"type":"error","error":{"type","message"},"request_id"}`, and its stream
 * `error` event.
 */
import type { ErrorKind, GatewayError } from '../../errors.js';
import type { ErrorShape } from '../types.js';

const TYPE: Record<ErrorKind, string> = {
  invalid_request: 'invalid_request_error',
  authentication: 'authentication_error',
  permission: 'permission_error',
  not_found: 'not_found_error',
  request_too_large: 'request_too_large',
  rate_limit: 'rate_limit_error',
  upstream: 'api_error',
  timeout: 'timeout_error',
  overloaded: 'overloaded_error',
  unavailable: 'overloaded_error',
  internal: 'api_error',
};

/** The Anthropic error `type` for `err`: by kind, and 529 is always `overloaded_error`. */
export function anthropicErrorType(err: GatewayError): string {
  return err.status === 529 ? 'overloaded_error' : TYPE[err.kind];
}

function body(err: GatewayError, requestId?: string): string {
  return JSON.stringify({
    type: 'error',
    error: { type: anthropicErrorType(err), message: err.message },
    ...(requestId ? { request_id: requestId } : {}),
  });
}

/**
 * Anthropic error responses (with `request_id` in the body, as Anthropic's API sends it, and a `request-id` header),
 * and a mid-stream failure as an `error` event with no `message_stop` after it.
 */
export const anthropicErrors: ErrorShape = {
  renderError: (err, requestId) => ({
    status: err.status,
    headers: {
      'content-type': 'application/json',
      ...(requestId ? { 'request-id': requestId } : {}),
      ...err.responseHeaders(),
    },
    body: body(err, requestId),
  }),
  streamError: (err) => `event: error\ndata: ${body(err)}\n\n`,
};
