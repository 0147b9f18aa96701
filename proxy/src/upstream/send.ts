/**
 * Sends one upstream request through the origin's pool and classifies transport failures. The response body is
 * returned as undici's Node Readable: no Web-streams conversion on the hot path.
 */
import type { EventEmitter } from 'node:events';
import type { Dispatcher } from 'undici';
import type { EndpointState } from '../endpoints/state.js';
import type { UpstreamRequest } from '../protocols/types.js';
import type { AbortState } from './abort.js';
import type { UpstreamPools } from './pools.js';

export type UpstreamResponse = Dispatcher.ResponseData;

/** Why an attempt failed before any answer: drives retry and outlier decisions. */
export type TransportFailure = 'connect' | 'timeout' | 'reset' | 'aborted';

export class UpstreamTransportError extends Error {
  constructor(
    readonly failure: TransportFailure,
    message: string,
    options?: { cause: unknown },
  ) {
    super(message, options);
    this.name = 'UpstreamTransportError';
  }
}

const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Classifies an undici / socket error. */
export function classifyTransportError(e: unknown, signal: AbortState): UpstreamTransportError {
  if (e instanceof UpstreamTransportError) return e;
  const err = e as { code?: string; name?: string; message?: string };
  const reason: unknown = signal.aborted ? signal.reason : undefined;
  if (reason instanceof UpstreamTransportError) return reason;
  if (signal.aborted || err.name === 'AbortError' || err.code === 'UND_ERR_ABORTED')
    return new UpstreamTransportError('aborted', 'request aborted', { cause: e });
  if (err.code === 'UND_ERR_CONNECT_TIMEOUT')
    return new UpstreamTransportError('timeout', 'connect timeout', { cause: e });
  if (err.code && CONNECT_CODES.has(err.code))
    return new UpstreamTransportError('connect', `cannot connect to upstream (${err.code})`, { cause: e });
  if (err.code === 'UND_ERR_HEADERS_TIMEOUT' || err.code === 'UND_ERR_BODY_TIMEOUT')
    return new UpstreamTransportError('timeout', 'upstream timed out', { cause: e });
  return new UpstreamTransportError('reset', `upstream connection failed (${err.code ?? err.name ?? 'error'})`, {
    cause: e,
  });
}

/** Issues `req` to `endpoint`; resolves at response headers. Throws UpstreamTransportError. */
export async function sendUpstream(
  pools: UpstreamPools,
  endpoint: EndpointState,
  req: UpstreamRequest,
  signal: AbortState & EventEmitter,
): Promise<UpstreamResponse> {
  const pool = pools.get(endpoint.origin, endpoint.backend.timeouts.connectMs);
  try {
    return await pool.request({
      method: req.method,
      path: endpoint.basePath + req.path,
      headers: req.headers,
      body: req.body ?? null,
      signal,
    });
  } catch (e) {
    throw classifyTransportError(e, signal);
  }
}
