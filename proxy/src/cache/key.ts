/**
 * Which requests the cache may answer, and their key. The key is a SHA-256 over the normalised request: surface and
 * operation, the route and pool that serve it, the public model, the tenant, stream/usage flags (they change the
 * bytes sent), and the body without fields that do not change the answer (model, stream, user, metadata, ...),
 * with object keys sorted.
 *
 * Determinism: only requests with an explicit `temperature: 0` (Ollama: `options.temperature: 0`) are cached, plus
 * every embeddings and rerank request. An absent temperature means sampling — OpenAI's and Anthropic's default
 * is 1, Ollama's 0.8 — so it is not cached unless the policy sets `cache.nonDeterministic`.
 */
import { createHash } from 'node:crypto';
import type { AuthorizedCall, Call } from '../call/call.js';
import { isRecord } from '../protocols/common/json.js';

const IGNORED = new Set([
  'model',
  'stream',
  'stream_options',
  'user',
  'metadata',
  'store',
  'service_tier',
  'keep_alive',
]);
/** Operations whose answers do not sample: embeddings and rerank scores. */
const EMBEDDINGS = new Set(['embeddings', 'ollama_embed', 'rerank']);

/** Whether the answer to `call` is deterministic (see module comment). */
export function isDeterministic(call: Call): boolean {
  if (EMBEDDINGS.has(call.request.operation)) return true;
  const body: Readonly<Record<string, unknown>> = call.request.body;
  return (body.temperature ?? (isRecord(body.options) ? body.options.temperature : undefined)) === 0;
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (isRecord(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = canonical(v[k]);
    return out;
  }
  return v;
}

/** The cache key of `call` under `prefix`, for the given tenant ('' when anonymous). */
export function cacheKeyFor(call: AuthorizedCall, tenant: string, prefix: string): string {
  const body: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(call.request.body)) if (!IGNORED.has(k)) body[k] = v;
  const plan = call.route;
  const material = JSON.stringify([
    1,
    call.surface,
    call.request.operation,
    plan.route?.id ?? '',
    plan.pools[0]?.config.id ?? '',
    plan.publicModel,
    tenant,
    call.stream,
    call.clientWantsUsage,
    canonical(body),
  ]);
  return `${prefix}c:${createHash('sha256').update(material).digest('hex')}`;
}
