/** The OpenAI surface's error shape: `{"error":{"message","type","param","code"}}`, and its stream error event. */
import type { ErrorKind, GatewayError } from '../../errors.js';
import type { ErrorShape } from '../types.js';

const TYPE: Record<ErrorKind, string> = {
  invalid_request: 'invalid_request_error',
  authentication: 'invalid_request_error',
  permission: 'permission_error',
  not_found: 'invalid_request_error',
  request_too_large: 'invalid_request_error',
  rate_limit: 'rate_limit_error',
  upstream: 'server_error',
  timeout: 'server_error',
  overloaded: 'server_error',
  unavailable: 'server_error',
  internal: 'server_error',
};

/** The `error` object of an OpenAI error body. */
export function openAIErrorObject(err: GatewayError) {
  return { message: err.message, type: TYPE[err.kind], param: err.param, code: err.code };
}

/** OpenAI error responses, and a mid-stream failure as an error event with no `[DONE]` after it. */
export const openAIErrors: ErrorShape = {
  renderError: (err) => ({
    status: err.status,
    headers: { 'content-type': 'application/json', ...err.responseHeaders() },
    body: JSON.stringify({ error: openAIErrorObject(err) }),
  }),
  streamError: (err) => `data: ${JSON.stringify({ error: openAIErrorObject(err) })}\n\n`,
};
