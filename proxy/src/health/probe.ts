/**
 * What an active health check of one endpoint requests and how it reads the answer, per provider:
 * - `healthCheck.path` when set (translation defaults: vLLM and llama.cpp `/health`, Ollama `/api/version`),
 *   relative to the endpoint's origin, without credentials;
 * - otherwise the models list under the endpoint's base URL, with the backend credential: OpenAI protocol
 *   `GET {base}/models` (bearer), Anthropic `GET {base}/models` (x-api-key) — a cheap authenticated call.
 * 2xx is up. 503 from llama.cpp means the model is still loading (not ready). A vendor's 429 means it is up
 * (only rate limited); anything else, or no answer within the timeout, is down.
 */
import type { EndpointState } from '../endpoints/state.js';
import { DEFAULT_ANTHROPIC_VERSION } from '../protocols/anthropic/headers.js';
import { PROTOCOL_OF } from '../protocols/catalog.js';

export type ProbeResult = { ok: true } | { ok: false; loading: boolean; reason: string };

export interface Probe {
  /** Path on the endpoint's origin. */
  path: string;
  headers: Record<string, string>;
}

/** The request that checks `e`. */
export function probeFor(e: EndpointState): Probe {
  const b = e.backend;
  if (b.healthCheck.path !== undefined) return { path: b.healthCheck.path, headers: { ...b.headers } };
  const headers: Record<string, string> = { ...b.headers, accept: 'application/json' };
  if (PROTOCOL_OF[b.provider] === 'anthropic') {
    if (b.apiKey !== undefined) headers['x-api-key'] = b.apiKey;
    headers['anthropic-version'] = DEFAULT_ANTHROPIC_VERSION;
    return { path: `${e.basePath}/models`, headers };
  }
  if (b.apiKey !== undefined) headers.authorization = `Bearer ${b.apiKey}`;
  return { path: `${e.basePath}/models`, headers };
}

/** Reads a check's answer status. */
export function classifyProbe(e: EndpointState, status: number): ProbeResult {
  if (status >= 200 && status < 300) return { ok: true };
  if (status === 429 && e.backend.healthCheck.path === undefined) return { ok: true };
  const loading = status === 503 && e.backend.provider === 'llamacpp';
  return { ok: false, loading, reason: loading ? 'model loading (503)' : `health check answered ${status}` };
}
