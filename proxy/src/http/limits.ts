/**
 * Bounds on what one client or one upstream can make the proxy hold or wait for. Every bound has a default here and
 * a flag (main.ts) and chart value; docs/threat-model.md says what each protects.
 */

export interface ResourceLimits {
  /** Largest request body, bytes: 413 above it. */
  maxBodyBytes: number;
  /** Time a client has to send the request line and headers, ms: 408 and the connection closed after it. */
  headersTimeoutMs: number;
  /** Time a client has to send the whole body once its headers arrived, ms: 408 and the connection closed. */
  bodyTimeoutMs: number;
  /**
   * Request-body bytes held at once by all requests that did not present a valid API key, bytes: a request whose
   * body would go above it is answered 503 and its connection closed.
   */
  maxUnauthenticatedBodyBytes: number;
  /** Deepest nesting of objects and arrays in a request body: 400 above it. */
  maxJsonDepth: number;
  /**
   * Most values in a request body (objects, arrays, and each item and member in them): 400 above it. Parsing and
   * validation cost memory per value (about half a kilobyte for each invalid one), not per byte.
   */
  maxJsonValues: number;
  /** Longest model name a client may send, characters: 400 above it. */
  maxModelNameLength: number;
  /** Largest upstream stream event (SSE event or NDJSON line), bytes: the attempt fails as an upstream error. */
  maxUpstreamEventBytes: number;
  /** Largest non-streamed upstream answer, bytes: 502 above it. */
  maxUpstreamResponseBytes: number;
}

const MiB = 1024 * 1024;

export const DEFAULT_LIMITS: Readonly<ResourceLimits> = {
  maxBodyBytes: 10 * MiB,
  headersTimeoutMs: 10_000,
  bodyTimeoutMs: 30_000,
  maxUnauthenticatedBodyBytes: 64 * MiB,
  maxJsonDepth: 64,
  maxJsonValues: 100_000,
  maxModelNameLength: 256,
  maxUpstreamEventBytes: 1 * MiB,
  maxUpstreamResponseBytes: 32 * MiB,
};

/** The defaults with `overrides` applied (undefined entries keep the default). */
export function resolveLimits(overrides: Partial<ResourceLimits> = {}): ResourceLimits {
  const out: ResourceLimits = { ...DEFAULT_LIMITS };
  for (const [k, v] of Object.entries(overrides) as Array<[keyof ResourceLimits, number | undefined]>)
    if (v !== undefined) out[k] = v;
  return out;
}
