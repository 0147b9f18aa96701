/** The Hono environment of the traffic app: Node bindings plus the per-request state every stage shares. */
import type { HttpBindings } from '@hono/node-server';
import type { Logger } from 'pino';
import type { SurfaceName } from './protocols/catalog.js';

/** Per-request facts gathered along the pipeline, read by the access log, metrics and tracing. */
export interface RequestState {
  id: string;
  startedAt: number;
  surface: SurfaceName;
  model?: string;
  pool?: string;
  backend?: string;
  endpoint?: string;
  tenant?: string;
  /** The RoutePolicy holding the caller's key (namespace/name), when it presented a known one. */
  policy?: string;
  /** The caller's key id (a short prefix of the key's SHA-256, never the key). */
  keyId?: string;
  status?: number;
  attempts: number;
  fallback?: string;
  stream?: boolean;
  inputTokens?: number;
  outputTokens?: number;
  /** Input tokens served from the upstream's prompt cache (part of inputTokens), when it reports them. */
  cachedInputTokens?: number;
  /** The answer's stream ended early (client abort, mid-stream failure): upstream usage, if any, is partial. */
  usageIncomplete?: boolean;
  /** The upstream's usage was implausible (negative, fractional, absurdly large): it was dropped and estimated. */
  usageRejected?: boolean;
  /** True when the tokens were estimated (a stream ended without upstream usage, e.g. the client aborted). */
  usageEstimated?: boolean;
  /** Estimated cost from the backend's pricing, in `costCurrency`. */
  cost?: number;
  costCurrency?: string;
  cache?: 'hit' | 'miss' | 'bypass';
  /** Guardrail checks that did not simply allow (masked, denied, or failed and decided by their failure mode). */
  guardrails?: Array<{
    guardrail: string;
    phase: 'request' | 'response';
    action: 'allow' | 'mask' | 'deny';
    failed?: string;
  }>;
  limit?: string;
  errorCode?: string;
  /** Resolves when the response is fully written or the client went away. */
  finished?: Promise<void>;
}

export interface Env {
  Bindings: Partial<HttpBindings>;
  Variables: { state: RequestState; log: Logger };
}
