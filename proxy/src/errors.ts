/**
 * Typed gateway errors. Anything the proxy refuses or fails is thrown as a GatewayError and shaped once, in the
 * surface's own error format, by the app's onError (or written as a stream error event once streaming began).
 */

/** Broad classes, mapped to each surface's error `type`. */
export type ErrorKind =
  | 'invalid_request'
  | 'authentication'
  | 'permission'
  | 'not_found'
  | 'request_too_large'
  | 'rate_limit'
  | 'upstream'
  | 'timeout'
  | 'overloaded'
  | 'unavailable'
  | 'internal';

export interface GatewayErrorOptions {
  /** Name of the offending request field (OpenAI `param`). */
  param?: string | null;
  /** Machine-readable code (OpenAI `code`). */
  code?: string | null;
  /** Retry-After in milliseconds; sets `Retry-After` and `retry-after-ms`. */
  retryAfterMs?: number;
  /**
   * Sets `x-should-retry`: false for denials that retrying cannot fix, true for refusals a later retry (after
   * Retry-After) should overcome, such as load shedding.
   */
  shouldRetry?: boolean;
  /** Extra response headers (e.g. x-ratelimit-*). */
  headers?: Record<string, string>;
  cause?: unknown;
}

/** An error the client is told about, with its HTTP status. The message must never contain a secret. */
export class GatewayError extends Error {
  readonly param: string | null;
  readonly code: string | null;
  readonly retryAfterMs: number | undefined;
  readonly shouldRetry: boolean | undefined;
  readonly headers: Record<string, string>;

  constructor(
    readonly status: number,
    readonly kind: ErrorKind,
    message: string,
    opts: GatewayErrorOptions = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'GatewayError';
    this.param = opts.param ?? null;
    this.code = opts.code ?? null;
    this.retryAfterMs = opts.retryAfterMs;
    this.shouldRetry = opts.shouldRetry;
    this.headers = opts.headers ?? {};
  }

  /** A copy of this error whose response also carries `headers` (they win over the ones it had). */
  withHeaders(headers: Record<string, string>): GatewayError {
    return new GatewayError(this.status, this.kind, this.message, {
      param: this.param,
      code: this.code,
      ...(this.retryAfterMs !== undefined ? { retryAfterMs: this.retryAfterMs } : {}),
      ...(this.shouldRetry !== undefined ? { shouldRetry: this.shouldRetry } : {}),
      headers: { ...this.headers, ...headers },
      cause: this.cause,
    });
  }

  /** Headers every surface adds to this error's response. */
  responseHeaders(): Record<string, string> {
    const h: Record<string, string> = { ...this.headers };
    if (this.retryAfterMs !== undefined && Number.isFinite(this.retryAfterMs)) {
      h['retry-after'] = String(Math.max(1, Math.ceil(this.retryAfterMs / 1000)));
      h['retry-after-ms'] = String(Math.max(0, Math.round(this.retryAfterMs)));
    }
    if (this.shouldRetry !== undefined) h['x-should-retry'] = String(this.shouldRetry);
    return h;
  }
}

/** Ends the connection after the answer: its request body was not read to the end. */
const CLOSE = { connection: 'close' } as const;

/** Code of the error for an upstream still loading its model. */
export const UPSTREAM_LOADING = 'upstream_loading';
/** Retry-After of a loading answer when the upstream sends none (llama.cpp does not): how soon to ask again. */
export const LOADING_RETRY_AFTER_MS = 1000;

/** Shorthands for the errors the core raises. */
export const errors = {
  invalid: (message: string, param: string | null = null, code: string | null = null) =>
    new GatewayError(400, 'invalid_request', message, { param, code, shouldRetry: false }),
  modelNotFound: (model: string) =>
    new GatewayError(404, 'not_found', `The model '${model}' does not exist or you do not have access to it.`, {
      param: 'model',
      code: 'model_not_found',
      shouldRetry: false,
    }),
  tooLarge: (limit: number) =>
    new GatewayError(413, 'request_too_large', `Request body exceeds the limit of ${limit} bytes.`, {
      code: 'request_too_large',
      shouldRetry: false,
      headers: CLOSE,
    }),
  requestTimeout: (limitMs: number) =>
    new GatewayError(408, 'invalid_request', `The request body did not arrive within ${limitMs} ms.`, {
      code: 'request_timeout',
      headers: CLOSE,
    }),
  unauthenticatedBytes: () =>
    new GatewayError(
      503,
      'overloaded',
      'Too many request bytes from callers without a valid API key are in flight; retry later or send an API key.',
      { code: 'unauthenticated_body_budget_exhausted', retryAfterMs: 1000, headers: CLOSE },
    ),
  notFound: (message: string) => new GatewayError(404, 'not_found', message, { shouldRetry: false }),
  unavailable: (message: string, code = 'no_healthy_endpoints', retryAfterMs?: number) =>
    new GatewayError(503, 'unavailable', message, { code, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) }),
  /** Every endpoint that could answer is loading its model (llama.cpp's 503 "Loading model"). */
  loading: (message: string, retryAfterMs: number) =>
    new GatewayError(503, 'unavailable', message, { code: UPSTREAM_LOADING, retryAfterMs }),
  badGateway: (message: string, code = 'upstream_error') => new GatewayError(502, 'upstream', message, { code }),
  timeout: (message: string, code = 'upstream_timeout') => new GatewayError(504, 'timeout', message, { code }),
};
