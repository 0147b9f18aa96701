/** Shared set-up of the real-upstream tier: proxy manifests over llama-server replicas and their own counters. */
import { Agent } from 'undici';
import { afterEach } from 'vitest';
import { parsePrometheusText } from '../support/prom-text.js';
import type { TestProxy } from '../support/proxy.js';
import { type LlamaServer, type LlamaServerOptions, startLlamaServer } from './llamacpp/index.js';

/**
 * Timeout of a real-tier set-up or test that starts servers: llama-server and the model are built by `npm test` up
 * front, but a test file run on its own on a fresh machine builds them first (~6 min on 2 idle cores, up to ~30 min under load).
 */
export const REAL_SETUP_TIMEOUT_MS = 45 * 60_000;

/** Public model names the real tier's proxies serve. */
export const CHAT_MODEL = 'tiny-chat';
export const EMBED_MODEL = 'tiny-embed';

/** Opens one connection per request: `pipelining: 0` keeps nothing alive. */
const freshConnections = new Agent({ pipelining: 0 });

/**
 * `fetch` on a new connection, for a test's own requests straight to a llama-server: it closes a connection kept
 * alive 5 s idle (`Keep-Alive: timeout=5`), and a request that reuses one as it closes fails with "other side
 * closed" (seen once in CI). The proxy retries such a reset on another attempt; a test's single request cannot.
 */
export function fetchFresh(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, dispatcher: freshConnections } as RequestInit);
}

export interface RealManifestOptions {
  /** Replicas serving chat and completions. */
  chat: readonly LlamaServer[];
  /** Replica serving embeddings. */
  embed?: LlamaServer;
  /** Model name sent upstream (default: the public name, which llama.cpp accepts and ignores). */
  upstreamName?: string;
  /** LLMPool `scheduling` block (YAML flow). */
  scheduling?: string;
  /** LLMBackend `healthCheck` block (YAML flow); default on, checked every 200 ms. */
  healthCheck?: string;
  /** LLMBackend `metrics` block (YAML flow). */
  metrics?: string;
  /** LLMPool `retry` block (YAML flow). */
  retry?: string;
}

/** Standalone manifests: a llamacpp backend and pool for chat, and one for embeddings when `embed` is given. */
export function realManifests(o: RealManifestOptions): string {
  const chat = `
apiVersion: switchyard.dev/v1alpha1
kind: LLMBackend
metadata: { name: llama }
spec:
  provider: llamacpp
  endpoints: [${o.chat.map((s) => `{ url: "${s.url}/v1" }`).join(', ')}]
  models: [{ name: ${CHAT_MODEL}${o.upstreamName ? `, upstreamName: "${o.upstreamName}"` : ''} }]
  healthCheck: ${o.healthCheck ?? '{ interval: 200ms, timeout: 2s }'}
  metrics: ${o.metrics ?? '{ interval: 100ms, staleAfter: 2s }'}
---
apiVersion: switchyard.dev/v1alpha1
kind: LLMPool
metadata: { name: chat }
spec:
  model: ${CHAT_MODEL}
  backendRefs: [{ name: llama }]
${o.scheduling ? `  scheduling: ${o.scheduling}\n` : ''}${o.retry ? `  retry: ${o.retry}\n` : ''}`;
  if (!o.embed) return chat;
  return `${chat}---
apiVersion: switchyard.dev/v1alpha1
kind: LLMBackend
metadata: { name: llama-embed }
spec:
  provider: llamacpp
  endpoints: [{ url: "${o.embed.url}/v1" }]
  models: [{ name: ${EMBED_MODEL} }]
  healthCheck: { interval: 200ms }
---
apiVersion: switchyard.dev/v1alpha1
kind: LLMPool
metadata: { name: embed }
spec: { model: ${EMBED_MODEL}, backendRefs: [{ name: llama-embed }] }
`;
}

/** The counters of a llama-server's `/metrics` that tell what it processed (values by name, without `llamacpp:`). */
export async function serverCounters(server: LlamaServer): Promise<Record<string, number>> {
  const res = await fetchFresh(`${server.url}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  const out: Record<string, number> = {};
  for (const [name, family] of parsePrometheusText(await res.text()))
    if (name.startsWith('llamacpp:') && family.samples.length === 1)
      out[name.slice('llamacpp:'.length)] = family.samples[0]?.value ?? 0;
  return out;
}

/** What a server processed between two readings of its counters: prompt tokens (computed + reused) and generated. */
export function processed(before: Record<string, number>, after: Record<string, number>) {
  const d = (k: string) => (after[k] ?? 0) - (before[k] ?? 0);
  return {
    promptTokens: d('prompt_tokens_total') + d('prompt_tokens_cached_total'),
    cachedTokens: d('prompt_tokens_cached_total'),
    generatedTokens: d('tokens_predicted_total'),
  };
}

/** What one test started: stopped after it (`perTest` registers the afterEach hook). */
export interface PerTest {
  /** Starts `n` servers with `opts`, stopped after the test. */
  start(n: number, opts?: LlamaServerOptions): Promise<LlamaServer[]>;
  /** The test's proxy, if any, stopped after it (before the servers). */
  proxy: TestProxy | undefined;
}

/** Call once in a test file's body: servers and proxy each test starts are stopped after it. */
export function perTest(): PerTest {
  const servers: LlamaServer[] = [];
  const t: PerTest = {
    proxy: undefined,
    async start(n, opts) {
      const started = await Promise.all(Array.from({ length: n }, () => startLlamaServer(opts)));
      servers.push(...started);
      return started;
    },
  };
  afterEach(async () => {
    await t.proxy?.stop();
    t.proxy = undefined;
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });
  return t;
}
