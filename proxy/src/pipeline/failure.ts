/** How exceptions on the upstream path become a request's own failure (never the process's). */

import type { FailureCause } from '../call/outcome.js';
import { errors, GatewayError } from '../errors.js';

/**
 * `e` as the error the client is told about: a GatewayError stays as it is; anything else thrown while handling an
 * upstream answer (a translator meeting data it cannot handle) is an upstream protocol error, 502.
 */
export function asUpstreamError(e: unknown, message: string): GatewayError {
  return e instanceof GatewayError ? e : errors.badGateway(message, 'upstream_protocol_error');
}

/** The retry cause of a failed answer, in RoutePolicy `retryOn` terms. */
export function failureCauseOf(error: GatewayError): FailureCause {
  if (error.status === 429) return '429';
  if (error.status === 504) return 'timeout';
  return '5xx';
}
