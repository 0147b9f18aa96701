/**
 * LLM-aware scheduling over real llama-server replicas: the load signals come from what this llama.cpp really exports
 * (`/metrics` `requests_processing` / `requests_deferred`, KV-cache use from `/slots`; it has no
 * `kv_cache_usage_ratio`), a replica whose KV cache is above `maxKvCacheUsage` gets no new requests, and on a
 * shared-prefix conversation workload llm-aware scheduling makes the servers reuse more of their prompt cache (their
 * own `cached_tokens`) than round-robin.
 */
import { describe, expect, it } from 'vitest';
import { freshServerLoad } from '../../proxy/src/endpoint-metrics/index.js';
import type { EndpointState } from '../../proxy/src/endpoints/state.js';
import { conversationKey, rendezvousScore, replicaSeed } from '../../proxy/src/scheduling/llm-aware/rendezvous.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { waitFor } from '../support/wait.js';
import type { LlamaServer } from './llamacpp/index.js';
import { CHAT_MODEL, fetchFresh, perTest, REAL_SETUP_TIMEOUT_MS, realManifests } from './support.js';

const t = perTest();
/** Two slots of `slotCtx` tokens each. */
const start = (n: number, slotCtx = 2048) => t.start(n, { parallel: 2, ctx: 2 * slotCtx });

/** Slot context of the servers that `keepBusy` keeps busy: a generation filling it lasts several seconds. */
const LONG_SLOT = 16384;

const endpointOf = (p: TestProxy, s: LlamaServer) =>
  [...(p.store.current?.endpoints.values() ?? [])].find((e) => e.url.startsWith(s.url)) as EndpointState;

/**
 * Session ids for `n` conversations that rendezvous hashing spreads evenly over the proxy's endpoints (n / endpoints
 * each). Which replica wins a session depends on the replicas' addresses, random in a test: an uneven draw (three
 * conversations on a replica with two slots) would measure the draw rather than the scheduler.
 */
function balancedSessions(p: TestProxy, n: number): string[] {
  const seeds = [...(p.store.current?.endpoints.values() ?? [])].map((e) => replicaSeed(e.key));
  const counts = seeds.map(() => 0);
  const out: string[] = [];
  for (let i = 0; out.length < n && i < 10_000; i++) {
    const key = conversationKey(undefined, `user-${i}`, 1, 1) as number;
    const scores = seeds.map((seed) => rendezvousScore(key, seed, 1));
    const winner = scores.indexOf(Math.max(...scores));
    if ((counts[winner] as number) < n / seeds.length) {
      counts[winner] = (counts[winner] as number) + 1;
      out.push(`user-${i}`);
    }
  }
  expect(out).toHaveLength(n);
  return out;
}

/**
 * One slot of `server` (started with LONG_SLOT slots) busy for several seconds (a long prompt, then generating up to
 * the end of its context), sent directly; cut when the test's servers stop.
 */
function keepBusy(server: LlamaServer, promptWords: number): void {
  void fetchFresh(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      messages: [{ role: 'user', content: Array.from({ length: promptWords }, (_, i) => `word${i}`).join(' ') }],
      max_tokens: LONG_SLOT - promptWords * 4,
      ignore_eos: true,
      stream: true,
    }),
  })
    .then((r) => r.text())
    .catch(() => undefined);
}

describe('llm-aware scheduling over llama-server', () => {
  it(
    'reads running requests from /metrics and /slots and KV-cache use from /slots',
    async () => {
      const [server] = (await start(1, LONG_SLOT)) as [LlamaServer];
      t.proxy = await startTestProxy(
        realManifests({ chat: [server], scheduling: '{ strategy: llm-aware }', metrics: '{ interval: 50ms }' }),
      );
      const p = t.proxy;
      await waitFor(
        () => {
          const load = freshServerLoad(endpointOf(p, server), Date.now());
          return load?.slots !== undefined && load.waiting !== undefined;
        },
        10_000,
        'readings of /metrics and /slots',
      );
      expect(freshServerLoad(endpointOf(p, server), Date.now())).toMatchObject({ running: 0, waiting: 0, kvUsage: 0 });
      keepBusy(server, 600);
      await waitFor(
        () => (freshServerLoad(endpointOf(p, server), Date.now())?.kvUsage ?? 0) > 0.05,
        20_000,
        'KV-cache use of the busy slot',
      );
      const load = freshServerLoad(endpointOf(p, server), Date.now());
      expect(load).toMatchObject({ running: 1, slots: { total: 2, processing: 1 } });
      expect(load?.kvUsage).toBeLessThanOrEqual(1);
      const view = (await (await fetch(`${p.adminUrl}/config/endpoints`)).json()) as {
        pools: Array<{ tiers: Array<{ endpoints: Array<{ serverLoad: { kvCacheUsage: number | null } | null }> }> }>;
      };
      expect(view.pools[0]?.tiers[0]?.endpoints[0]?.serverLoad?.kvCacheUsage).toBeGreaterThan(0);
    },
    REAL_SETUP_TIMEOUT_MS,
  );

  it(
    'sends nothing to a replica whose KV cache is above maxKvCacheUsage',
    async () => {
      const [busy, idle] = (await start(2, LONG_SLOT)) as [LlamaServer, LlamaServer];
      t.proxy = await startTestProxy(
        realManifests({
          chat: [busy, idle],
          scheduling: '{ strategy: llm-aware, llmAware: { maxKvCacheUsage: 0.05 } }',
          metrics: '{ interval: 50ms }',
        }),
      );
      const p = t.proxy;
      keepBusy(busy, 1000);
      await waitFor(
        () => (freshServerLoad(endpointOf(p, busy), Date.now())?.kvUsage ?? 0) > 0.05,
        20_000,
        'the busy replica above the threshold',
      );
      const endpoints: string[] = [];
      for (let i = 0; i < 6; i++) {
        const res = await fetch(`${p.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: CHAT_MODEL, messages: [{ role: 'user', content: `q${i}` }], max_tokens: 1 }),
        });
        expect(res.status).toBe(200);
        await res.arrayBuffer();
        endpoints.push(res.headers.get('x-switchyard-endpoint') ?? '');
      }
      expect(new Set(endpoints)).toEqual(new Set(['llama/1']));
    },
    REAL_SETUP_TIMEOUT_MS,
  );

  it(
    'reuses more of the servers’ prompt cache than round-robin on a shared-prefix conversation workload',
    async () => {
      // Each replica keeps only its two slots' contexts: the host-memory prompt cache is off, as for a model whose
      // states do not fit there (the tiny model's would, and then every replica would end up holding everything).
      const replicas = await t.start(3, { parallel: 2, ctx: 4 * 2048, args: ['--cache-ram', '0'] });
      const system = `You are the assistant of the harbour office. ${Array.from(
        { length: 12 },
        (_, i) => `Rule ${i}: ships of class ${i % 7} dock at pier ${i % 5}.`,
      ).join(' ')}`;
      /** Share of prompt tokens the servers report as cached, over 6 conversations × 5 turns. */
      const run = async (scheduling: string): Promise<number> => {
        await Promise.all(replicas.map((s) => s.restart())); // cold caches
        const p = await startTestProxy(realManifests({ chat: replicas, scheduling, metrics: '{ interval: 100ms }' }));
        try {
          // Six users chat at once, each waiting for an answer before the next question; each names its session, which
          // llm-aware pins (round-robin ignores it), drawn so that the sessions' rendezvous replicas fit their slots.
          const sessions = balancedSessions(p, 6);
          let prompt = 0;
          let cached = 0;
          await Promise.all(
            Array.from({ length: 6 }, async (_, c) => {
              const history = [{ role: 'system', content: system }];
              for (let turn = 0; turn < 5; turn++) {
                history.push({
                  role: 'user',
                  content: `Conversation ${c}, question ${turn}: ${Array.from({ length: 30 }, (_, i) => `detail${c}x${turn}x${i}`).join(' ')}?`,
                });
                const res = await fetch(`${p.url}/v1/chat/completions`, {
                  method: 'POST',
                  headers: { 'content-type': 'application/json', 'x-session-id': sessions[c] as string },
                  body: JSON.stringify({ model: CHAT_MODEL, messages: history, max_tokens: 24 }),
                });
                expect(res.status).toBe(200);
                const body = (await res.json()) as {
                  choices: Array<{ message: { content: string } }>;
                  usage: { prompt_tokens: number; prompt_tokens_details?: { cached_tokens?: number } };
                };
                history.push({ role: 'assistant', content: body.choices[0]?.message.content ?? '' });
                prompt += body.usage.prompt_tokens;
                cached += body.usage.prompt_tokens_details?.cached_tokens ?? 0;
              }
            }),
          );
          return cached / prompt;
        } finally {
          await p.stop();
        }
      };
      const roundRobin = await run('{ strategy: weighted-round-robin }');
      const llmAware = await run('{ strategy: llm-aware, llmAware: { sessionHeader: x-session-id } }');
      expect(roundRobin).toBeGreaterThan(0); // the shared system prompt is reused everywhere
      // llm-aware reuses 0.25–0.45 more of the prompts (0.56–0.71 vs 0.25–0.32 on a quiet machine); 0.1 leaves room
      // for a machine whose cores other processes keep busy (docs/llm-aware.md).
      expect(llmAware).toBeGreaterThan(roundRobin + 0.1);
    },
    REAL_SETUP_TIMEOUT_MS,
  );
});
