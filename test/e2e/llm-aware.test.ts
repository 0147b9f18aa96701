/**
 * LLM-aware scheduling through the real proxy against simulator replicas: metrics are scraped (vLLM, llama.cpp
 * with /slots while /metrics blocks), requests are answered while a scrape of a replica's hanging /metrics is still
 * outstanding (and that replica gets traffic on proxy-side data), a saturated replica gets no new requests while
 * others have room even though it holds the prompt's prefix, a shared prefix and a session stick to one replica.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { freshServerLoad } from '../../proxy/src/endpoint-metrics/index.js';
import type { EndpointState } from '../../proxy/src/endpoints/state.js';
import { type Simulator, type SimulatorOptions, startSimulator } from '../sim/index.js';
import { poolManifests } from '../support/manifests.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { waitFor } from '../support/wait.js';

let sims: Simulator[] = [];
let proxy: TestProxy | undefined;
afterEach(async () => {
  await proxy?.stop();
  proxy = undefined;
  await Promise.all(sims.map((s) => s.kill()));
  sims = [];
});

const sim = async (opts: SimulatorOptions = {}) => {
  const s = await startSimulator({ flavour: 'vllm', models: ['m'], ttftMs: 1, itlMs: 1, recordLimit: 0, ...opts });
  sims.push(s);
  return s;
};

const manifests = (urls: string[], opts: { provider?: string; llmAware?: string; metrics?: string } = {}) =>
  poolManifests({
    name: 'replicas',
    poolName: 'm',
    model: 'm',
    urls: urls.map((u) => `${u}/v1`),
    provider: opts.provider,
    backendSpec: `  healthCheck: { enabled: false }\n  metrics: ${opts.metrics ?? '{ interval: 50ms, staleAfter: 1s }'}`,
    poolSpec: `  scheduling:\n    strategy: llm-aware\n    llmAware: { maxQueueDepth: 1${opts.llmAware ?? ''} }`,
  });

/** A chat request: `content` as the last user message, after a system prompt and earlier turns when given. */
const chat = (
  p: TestProxy,
  content: string,
  extra: { headers?: Record<string, string>; system?: string; history?: string[] } = {},
) =>
  fetch(`${p.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...extra.headers },
    body: JSON.stringify({
      model: 'm',
      max_tokens: 2,
      messages: [
        ...(extra.system ? [{ role: 'system', content: extra.system }] : []),
        ...(extra.history ?? []).map((text, i) => ({ role: i % 2 === 0 ? 'user' : 'assistant', content: text })),
        { role: 'user', content },
      ],
    }),
  }).then(async (r) => {
    await r.text();
    return r.status;
  });

const served = (s: Simulator) => s.stats().byPath['/v1/chat/completions'] ?? 0;
const endpointOf = (p: TestProxy, s: Simulator) =>
  [...(p.store.current?.endpoints.values() ?? [])].find((e) => e.url.startsWith(s.url)) as EndpointState;

describe('llm-aware scheduling', () => {
  it('scrapes vLLM metrics and llama.cpp /slots while its /metrics blocks during decode', async () => {
    const vllm = await sim({ kvBlocks: 64 });
    const llama = await sim({ flavour: 'llamacpp', metricsBlockDuringDecode: true, itlMs: 20 });
    proxy = await startTestProxy(manifests([vllm.url]));
    const llamaProxy = await startTestProxy(manifests([llama.url], { provider: 'llamacpp' }));
    try {
      await waitFor(
        () => freshServerLoad(endpointOf(proxy as TestProxy, vllm), Date.now())?.kvUsage !== undefined,
        10_000,
        'vLLM reading',
      );
      const view = (await (await fetch(`${(proxy as TestProxy).adminUrl}/config/endpoints`)).json()) as {
        pools: Array<{
          tiers: Array<{ endpoints: Array<{ serverLoad: { kvCacheUsage: number; ageMs: number } | null }> }>;
        }>;
      };
      expect(view.pools[0]?.tiers[0]?.endpoints[0]?.serverLoad).toMatchObject({
        kvCacheUsage: 0,
        running: 0,
        kvBlockSize: 16,
        kvBlocks: 64,
      });
      // A long answer keeps llama.cpp decoding: /metrics blocks, /slots still tells one slot is busy.
      const long = fetch(`${llama.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-sim-output-tokens': '400' },
        body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'tell me a story' }], max_tokens: 400 }),
      }).catch(() => undefined);
      await waitFor(
        () => freshServerLoad(endpointOf(llamaProxy, llama), Date.now())?.slots?.processing === 1,
        10_000,
        'slots reading',
      );
      expect(freshServerLoad(endpointOf(llamaProxy, llama), Date.now())?.running).toBe(1);
      void long; // cut short by the simulator's kill after the test
    } finally {
      await llamaProxy.stop();
    }
  });

  it('answers requests while a scrape of a hanging /metrics is outstanding, and schedules that replica', async () => {
    const healthy = await sim();
    const hanging = await sim();
    hanging.setFaults({ hang: true, paths: ['/metrics'] });
    // staleAfter (the scrape timeout) of 60 s: the first scrape of the hanging replica stays outstanding for the
    // whole test, neither answered nor given up, and no second one starts (one scrape in flight per replica).
    proxy = await startTestProxy(
      manifests([healthy.url, hanging.url], { metrics: '{ interval: 50ms, staleAfter: 60s }' }),
    );
    await waitFor(
      () => freshServerLoad(endpointOf(proxy as TestProxy, healthy), Date.now()) !== undefined,
      10_000,
      'reading',
    );
    await waitFor(() => hanging.stats().hanging === 1, 10_000, 'a scrape of the hanging replica');
    for (let i = 0; i < 30; i++) {
      expect(await chat(proxy, `question ${i}`)).toBe(200);
      // Answered while that scrape is still unanswered: scheduling did not wait for it.
      expect(hanging.stats()).toMatchObject({ hanging: 1, byPath: expect.objectContaining({ '/metrics': 1 }) });
    }
    expect(freshServerLoad(endpointOf(proxy, hanging), Date.now())).toBeUndefined();
    expect(served(hanging)).toBeGreaterThan(0);
    expect(served(healthy)).toBeGreaterThan(0);
  });

  it('sends a saturated replica no new requests, though it holds the prefix, until it has room again', async () => {
    // 64 KV blocks of 16 tokens: one long request holds most of them (saturated above 50 % KV-cache use). The KV
    // threshold saturates the replica while its load (1 running) stays within the prefix-affinity load bound and
    // nothing waits, so without the saturation filter its prefix affinity would win (prefix weight 3 against the
    // KV-cache scorer's 0.7 and the in-flight scorer's share of recent picks): the test fails with the filter off.
    const replicas = [await sim({ kvBlocks: 64 }), await sim({ kvBlocks: 64 }), await sim({ kvBlocks: 64 })];
    proxy = await startTestProxy(
      manifests(
        replicas.map((s) => s.url),
        { llmAware: ', maxKvCacheUsage: 0.5' },
      ),
    );
    const system = 'You are the support assistant of a large company; follow the policy in every answer. '.repeat(12);
    // Turns of one conversation: the system prompt and first question stay, the history grows.
    const history = ['Where is my order 12345?', 'It left the warehouse yesterday.'];
    const ask = async (n: number, what: string) => {
      for (let i = 0; i < n; i++) expect(await chat(proxy as TestProxy, `${what} ${i}`, { system, history })).toBe(200);
    };
    // The conversation goes to one replica, which from then on holds its prefix.
    await ask(6, 'warm-up question');
    const holders = replicas.filter((s) => served(s) > 0);
    expect(holders).toHaveLength(1);
    const busy = holders[0] as Simulator;
    // Saturate it: a long answer (700 output tokens, 50 ms apart) sent straight to it holds about 44 of its 64 KV blocks.
    busy.setTiming({ itlMs: 50 });
    const long = new AbortController();
    void fetch(`${busy.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-sim-output-tokens': '700' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'long' }], max_tokens: 700 }),
      signal: long.signal,
    })
      .then((r) => r.text())
      .catch(() => undefined); // aborted below
    const kvUsage = () => freshServerLoad(endpointOf(proxy as TestProxy, busy), Date.now())?.kvUsage;
    await waitFor(() => (kvUsage() ?? 0) > 0.5, 10_000, 'saturation seen');
    const before = served(busy);
    await ask(12, 'while saturated');
    expect(served(busy) - before).toBe(0);
    // Room again: the prefix pulls traffic back to it.
    long.abort();
    await waitFor(() => busy.stats().running === 0 && kvUsage() === 0, 10_000, 'room seen');
    busy.setTiming({ itlMs: 1 });
    await ask(12, 'with room');
    expect(served(busy) - before).toBeGreaterThan(0);
  });

  it('sends every turn of a conversation to one replica, spreads conversations, and keeps a session on its replica', async () => {
    const replicas = [await sim(), await sim(), await sim(), await sim()];
    proxy = await startTestProxy(
      manifests(
        replicas.map((s) => s.url),
        { llmAware: ', sessionHeader: x-session-id' },
      ),
    );
    const system = 'You are the support assistant of a large company; follow the policy in every answer. '.repeat(12);
    const history: string[] = ['I have a question about my invoice.'];
    for (let turn = 0; turn < 6; turn++) {
      expect(await chat(proxy, `follow-up ${turn}`, { system, history })).toBe(200);
      history.push(`answer ${turn}`, `follow-up ${turn}`);
    }
    expect(replicas.map(served).filter((n) => n > 0)).toEqual([6]);
    for (const s of replicas) s.resetStats();
    // Conversations that share only the system prompt are keyed apart (rendezvous over the replicas): they spread.
    for (let i = 0; i < 24; i++) expect(await chat(proxy, `question number ${i}`, { system })).toBe(200);
    expect(replicas.map(served).filter((n) => n > 0).length).toBeGreaterThan(1);
    for (const s of replicas) s.resetStats();
    for (let i = 0; i < 12; i++)
      expect(await chat(proxy, `hi ${i}`, { headers: { 'x-session-id': 'alice' } })).toBe(200);
    expect(replicas.map(served).filter((n) => n > 0)).toEqual([12]);
  });
});
