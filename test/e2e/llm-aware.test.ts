/**
 * LLM-aware scheduling through the real proxy against simulator replicas: metrics are scraped (vLLM, llama.cpp
 * with /slots while /metrics blocks), a replica whose /metrics hangs still gets traffic on proxy-side data, a
 * saturated replica gets no new requests while others have room, a shared prefix and a session stick to one
 * replica.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { EndpointState } from '../../proxy/src/config/endpoint-state.js';
import { freshServerLoad } from '../../proxy/src/endpoint-metrics/index.js';
import { type Simulator, type SimulatorOptions, startSimulator } from '../sim/index.js';
import { startTestProxy, type TestProxy, waitFor } from '../support/proxy.js';

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

const manifests = (urls: string[], opts: { provider?: string; llmAware?: string } = {}) => `
apiVersion: switchyard.dev/v1alpha1
kind: LLMBackend
metadata: { name: replicas }
spec:
  provider: ${opts.provider ?? 'vllm'}
  endpoints: [${urls.map((u) => `{ url: "${u}/v1" }`).join(', ')}]
  models: [{ name: m }]
  healthCheck: { enabled: false }
  metrics: { interval: 50ms, staleAfter: 1s }
---
apiVersion: switchyard.dev/v1alpha1
kind: LLMPool
metadata: { name: m }
spec:
  model: m
  backendRefs: [{ name: replicas }]
  scheduling:
    strategy: llm-aware
    llmAware: { maxQueueDepth: 1${opts.llmAware ?? ''} }
`;

const chat = (p: TestProxy, content: string, extra: { headers?: Record<string, string>; system?: string } = {}) =>
  fetch(`${p.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...extra.headers },
    body: JSON.stringify({
      model: 'm',
      max_tokens: 2,
      messages: [...(extra.system ? [{ role: 'system', content: extra.system }] : []), { role: 'user', content }],
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
      expect(view.pools[0]?.tiers[0]?.endpoints[0]?.serverLoad).toMatchObject({ kvCacheUsage: 0, running: 0 });
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

  it('still schedules a replica whose /metrics hangs, on proxy-side data', async () => {
    const healthy = await sim();
    const hanging = await sim();
    hanging.setFaults({ hang: true, paths: ['/metrics'] });
    const started = Date.now();
    proxy = await startTestProxy(manifests([healthy.url, hanging.url]));
    await waitFor(
      () => freshServerLoad(endpointOf(proxy as TestProxy, healthy), Date.now()) !== undefined,
      10_000,
      'reading',
    );
    await waitFor(() => (hanging.stats().byPath['/metrics'] ?? 0) > 0, 10_000, 'a scrape of the hanging replica');
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push(await chat(proxy, `question ${i}`));
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(freshServerLoad(endpointOf(proxy, hanging), Date.now())).toBeUndefined();
    expect(served(hanging)).toBeGreaterThan(0);
    expect(served(healthy)).toBeGreaterThan(0);
    // One scrape in flight at a time, each given up after staleAfter (1 s): not one per 50 ms interval.
    const scrapes = hanging.stats().byPath['/metrics'] ?? 0;
    expect(scrapes).toBeLessThanOrEqual((Date.now() - started) / 1000 + 2);
  });

  it('sends a saturated replica no new requests while the others have room', async () => {
    const busy = await sim({ maxConcurrency: 1, itlMs: 10 });
    const others = [await sim(), await sim()];
    proxy = await startTestProxy(manifests([busy.url, ...others.map((s) => s.url)]));
    // Three long requests straight to one replica: one runs, two wait (maxQueueDepth is 1).
    for (let i = 0; i < 3; i++)
      void fetch(`${busy.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-sim-output-tokens': '300' },
        body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'long' }], max_tokens: 300 }),
      })
        .then((r) => r.text())
        .catch(() => undefined); // cut short by the simulator's kill after the test
    await waitFor(
      () => freshServerLoad(endpointOf(proxy as TestProxy, busy), Date.now())?.waiting === 2,
      10_000,
      'queue seen',
    );
    const before = served(busy);
    const statuses = await Promise.all(Array.from({ length: 12 }, (_, i) => chat(proxy as TestProxy, `q ${i}`)));
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(served(busy) - before).toBe(0);
  });

  it('sends a shared prefix to the same replica, and a session to its replica', async () => {
    const replicas = [await sim(), await sim(), await sim(), await sim()];
    proxy = await startTestProxy(
      manifests(
        replicas.map((s) => s.url),
        { llmAware: ', sessionHeader: x-session-id' },
      ),
    );
    const system = 'You are the support assistant of a large company; follow the policy in every answer. '.repeat(12);
    for (let i = 0; i < 12; i++) expect(await chat(proxy, `question number ${i}`, { system })).toBe(200);
    expect(replicas.map(served).filter((n) => n > 0)).toEqual([12]);
    for (const s of replicas) s.resetStats();
    for (let i = 0; i < 12; i++)
      expect(await chat(proxy, `hi ${i}`, { headers: { 'x-session-id': 'alice' } })).toBe(200);
    expect(replicas.map(served).filter((n) => n > 0)).toEqual([12]);
  });
});
