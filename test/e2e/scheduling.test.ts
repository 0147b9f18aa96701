/**
 * Replica-aware scheduling against simulator replicas: least-connections avoids a slow replica, a loading
 * llama.cpp replica gets no traffic until ready, priority tiers, the fallback chain to another pool and model,
 * and the bounded wait queue when every endpoint is full.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../sim/index.js';
import { scrape } from '../support/metrics-scrape.js';
import { sampleSum } from '../support/prom-text.js';
import { poolManifests, startTestProxy, type TestProxy } from '../support/proxy.js';
import { waitFor } from '../support/wait.js';

interface EndpointView {
  id: string;
  backend: string;
  health: string;
  lastCheckAt: string | null;
  available: boolean;
}

async function endpoints(proxy: TestProxy): Promise<EndpointView[]> {
  const res = await fetch(`${proxy.adminUrl}/config/endpoints`);
  const body = (await res.json()) as { pools: Array<{ tiers: Array<{ endpoints: EndpointView[] }> }> };
  return body.pools.flatMap((p) => p.tiers.flatMap((t) => t.endpoints));
}

const chat = (proxy: TestProxy, model = 'm', extra: Record<string, unknown> = {}) =>
  fetch(`${proxy.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4, ...extra }),
  });

let sims: Simulator[] = [];
let proxy: TestProxy | undefined;
afterEach(async () => {
  await proxy?.stop();
  proxy = undefined;
  await Promise.all(sims.map((s) => s.close()));
  sims = [];
});

const sim = async (opts: Parameters<typeof startSimulator>[0] = {}) => {
  const s = await startSimulator({ flavour: 'vllm', models: ['m'], ttftMs: 2, itlMs: 1, ...opts });
  sims.push(s);
  return s;
};

const backend = (name: string, urls: string[], extra = '', model = 'm', upstream?: string) => `
apiVersion: switchyard.dev/v1alpha1
kind: LLMBackend
metadata: { name: ${name} }
spec:
  provider: vllm
  endpoints: [${urls.map((u) => `{ url: "${u}/v1" }`).join(', ')}]
  models: [{ name: "${model}"${upstream ? `, upstreamName: "${upstream}"` : ''} }]
  healthCheck: { interval: 200ms, timeout: 200ms }
${extra}
---`;

/** A proxy serving model `m` from one pool over `backends` (name, replicas, extra spec), once every replica is healthy. */
async function startPool(
  pool: string,
  backends: Array<{ name: string; sims: Simulator[]; extra?: string }>,
  poolSpec: string,
): Promise<TestProxy> {
  const p = await startTestProxy(`
${backends
  .map((b) =>
    backend(
      b.name,
      b.sims.map((s) => s.url),
      b.extra,
    ),
  )
  .join('\n')}
apiVersion: switchyard.dev/v1alpha1
kind: LLMPool
metadata: { name: ${pool} }
spec:
  model: m
${poolSpec}
`);
  proxy = p;
  await waitFor(async () => (await endpoints(p)).every((e) => e.health === 'healthy'), 5000, 'healthy');
  return p;
}

describe('scheduling across replicas', () => {
  it('least-connections sends new requests away from a slow replica', async () => {
    const fast = [await sim(), await sim()];
    const slow = await sim({ ttftMs: 500 });
    proxy = await startTestProxy(
      poolManifests({
        model: 'm',
        urls: [...fast, slow].map((s) => `${s.url}/v1`),
        poolSpec: '  scheduling: { strategy: least-connections }',
      }),
    );
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        for (let i = 0; i < 15; i++) statuses.push((await chat(proxy as TestProxy)).status);
      }),
    );
    expect(statuses.every((s) => s === 200)).toBe(true);
    const total = statuses.length;
    const toSlow = slow.stats().byPath['/v1/chat/completions'] ?? 0;
    console.log(`least-connections: ${toSlow} of ${total} requests to the slow replica`);
    expect(toSlow).toBeLessThan(total / 6);
  });

  it('a loading llama.cpp replica gets no traffic until it is ready', async () => {
    const ready = await sim({ flavour: 'llamacpp' });
    const loading = await sim({ flavour: 'llamacpp', loadingMs: 60_000 });
    proxy = await startTestProxy(
      poolManifests({
        model: 'm',
        provider: 'llamacpp',
        urls: [ready.url, loading.url],
        backendSpec: '  healthCheck: { interval: 200ms, timeout: 200ms }',
      }),
    );
    const p = proxy;
    await waitFor(async () => (await endpoints(p)).every((e) => e.lastCheckAt !== null), 5000, 'first checks');
    expect((await endpoints(p)).map((e) => e.health)).toEqual(['healthy', 'unhealthy']);
    loading.resetStats();
    for (let i = 0; i < 20; i++) expect((await chat(p)).status).toBe(200);
    expect(loading.stats().byPath['/v1/chat/completions'] ?? 0).toBe(0);
    loading.setLoading(false);
    await waitFor(async () => (await endpoints(p)).every((e) => e.health === 'healthy'), 5000, 'ready');
    for (let i = 0; i < 20; i++) expect((await chat(p)).status).toBe(200);
    expect(loading.stats().byPath['/v1/chat/completions'] ?? 0).toBeGreaterThan(0);
  });

  it('priority tiers: tier 1 only while tier 0 is unhealthy or full, then back to tier 0', async () => {
    const primary = [await sim(), await sim()];
    const secondary = await sim();
    const p = await startPool(
      'tiers',
      [
        { name: 'primary', sims: primary, extra: '  maxConcurrency: 1' },
        { name: 'secondary', sims: [secondary] },
      ],
      `  backendRefs: [{ name: primary, priority: 0 }, { name: secondary, priority: 1 }]
  scheduling: { queue: { maxSize: 0 } }`,
    );
    const served = async (n: number) => {
      const backends: string[] = [];
      for (let i = 0; i < n; i++) {
        const r = await chat(p);
        expect(r.status).toBe(200);
        backends.push((r.headers.get('x-switchyard-endpoint') ?? '').split('/')[0] ?? '');
      }
      return backends;
    };
    expect(new Set(await served(10))).toEqual(new Set(['primary']));
    // Full: two slow requests hold both tier-0 slots; a third goes to tier 1.
    for (const s of primary) s.setTiming({ ttftMs: 500 });
    const held = [chat(p), chat(p)];
    await waitFor(() => primary.every((s) => s.stats().running + s.stats().waiting > 0), 5000, 'tier 0 busy');
    const overflow = await chat(p);
    expect(overflow.headers.get('x-switchyard-endpoint')).toMatch(/^secondary\//);
    await Promise.all(held.map(async (r) => (await r).text()));
    for (const s of primary) s.setTiming({ ttftMs: 2 });
    // Unhealthy: tier 0 loads, tier 1 takes everything; ready again, tier 0 takes it back.
    for (const s of primary) s.setLoading(true);
    await waitFor(async () => (await endpoints(p)).filter((e) => e.health === 'unhealthy').length === 2, 5000, 'down');
    expect(new Set(await served(10))).toEqual(new Set(['secondary']));
    for (const s of primary) s.setLoading(false);
    await waitFor(async () => (await endpoints(p)).every((e) => e.health === 'healthy'), 5000, 'recovered');
    expect(new Set(await served(10))).toEqual(new Set(['primary']));
  });

  it('fallback chain to a second pool with another upstream model, streaming and not', async () => {
    const broken = await sim();
    broken.setFaults({ status: 500 });
    const backup = await sim({ models: ['other-model'] });
    proxy = await startTestProxy(`
${backend('main', [broken.url])}
${backend('backup', [backup.url], '', 'm-backup', 'other-model')}
apiVersion: switchyard.dev/v1alpha1
kind: LLMPool
metadata: { name: main }
spec: { model: m, backendRefs: [{ name: main }] }
---
apiVersion: switchyard.dev/v1alpha1
kind: LLMPool
metadata: { name: backup }
spec: { model: m-backup, backendRefs: [{ name: backup }] }
---
apiVersion: switchyard.dev/v1alpha1
kind: RoutePolicy
metadata: { name: fallback }
spec:
  rules: [{ match: { model: { value: m } }, fallbacks: [backup] }]
`);
    const res = await chat(proxy);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-switchyard-fallback')).toBe('default/backup');
    const body = (await res.json()) as { model: string; choices: unknown[] };
    expect(body.model).toBe('m');
    expect(body.choices).toHaveLength(1);
    const stream = await chat(proxy, 'm', { stream: true });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('x-switchyard-fallback')).toBe('default/backup');
    const text = await stream.text();
    expect(text).toContain('data: [DONE]');
    expect(text).not.toContain('"error"');
    const upstreamModels = backup
      .requests()
      .filter((r) => r.path === '/v1/chat/completions')
      .map((r) => (r.body as { model?: string } | undefined)?.model);
    expect(upstreamModels).toEqual(['other-model', 'other-model']);
    expect(broken.stats().byPath['/v1/chat/completions']).toBeGreaterThan(0);
  });

  /** One replica with a single slot, its slot taken by a slow first request; `queue` is the pool's queue spec. */
  const oneBusySlot = async (ttftMs: number, queue: string) => {
    const only = await sim({ ttftMs });
    const p = await startTestProxy(
      poolManifests({
        model: 'm',
        urls: [`${only.url}/v1`],
        backendSpec: '  maxConcurrency: 1',
        poolSpec: `  scheduling: { queue: ${queue} }`,
      }),
    );
    proxy = p;
    const first = chat(p);
    await waitFor(() => only.stats().running + only.stats().waiting > 0, 5000, 'first request upstream');
    return { only, p, first };
  };
  const saturated = async (res: Response) => {
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).not.toBeNull();
    const error = ((await res.json()) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe('pool_saturated');
    return error.message;
  };

  it('queues requests while every endpoint is full, and refuses beyond the queue with 503 + Retry-After', async () => {
    // The first request holds the only slot long enough for the second to be seen waiting; the second is fast.
    const { only, p, first } = await oneBusySlot(2000, '{ maxSize: 1, timeout: 10s }');
    const queued = chat(p);
    const pool = { pool: 'default/backend-pool' };
    await waitFor(
      async () => sampleSum(await scrape(p.adminUrl), 'switchyard_pool_queued_requests', pool) === 1,
      5000,
      'the second request to wait in the queue',
    );
    only.setTiming({ ttftMs: 0 });
    expect(await saturated(await chat(p))).toContain('the wait queue is full');
    expect((await first).status).toBe(200);
    expect((await queued).status).toBe(200);
    expect(only.stats().byPath['/v1/chat/completions']).toBe(2);
    expect(sampleSum(await scrape(p.adminUrl), 'switchyard_pool_queued_requests', pool)).toBe(0);
  });

  it('a request queued longer than the queue timeout gets 503 pool_saturated with Retry-After', async () => {
    const { only, first } = await oneBusySlot(1500, '{ maxSize: 4, timeout: 200ms }');
    // The queue has room: this one is refused because its wait timed out, not because the queue was full.
    expect(await saturated(await chat(proxy as TestProxy))).not.toContain('the wait queue is full');
    expect((await first).status).toBe(200);
    expect(only.stats().byPath['/v1/chat/completions']).toBe(1);
  });

  it('weights are per replica: a backend with three replicas takes three times the traffic of one', async () => {
    const many = [await sim(), await sim(), await sim()];
    const single = await sim();
    const p = await startPool(
      'weights',
      [
        { name: 'many', sims: many },
        { name: 'single', sims: [single] },
      ],
      `  backendRefs: [{ name: many, weight: 1 }, { name: single, weight: 1 }]
  scheduling: { strategy: weighted-round-robin }`,
    );
    const counts: Record<string, number> = {};
    for (let i = 0; i < 80; i++) {
      const r = await chat(p);
      expect(r.status).toBe(200);
      const b = (r.headers.get('x-switchyard-endpoint') ?? '').split('/')[0] ?? '';
      counts[b] = (counts[b] ?? 0) + 1;
    }
    // Smooth weighted round-robin is exact: 60 to the three replicas (20 each), 20 to the single one.
    expect(counts).toEqual({ many: 60, single: 20 });
    for (const s of many) expect(s.stats().byPath['/v1/chat/completions']).toBe(20);
  });

  it('a retry moves to the next priority tier when every replica of the first has failed', async () => {
    const primary = [await sim(), await sim()];
    const secondary = await sim();
    const p = await startPool(
      'tiers',
      [
        { name: 'primary', sims: primary },
        { name: 'secondary', sims: [secondary] },
      ],
      `  backendRefs: [{ name: primary, priority: 0 }, { name: secondary, priority: 1 }]
  retry: { attempts: 3 }`,
    );
    // Both tier-0 replicas answer 500 (their health checks still pass): attempts 1 and 2 there, 3 on tier 1.
    for (const s of primary) s.setFaults({ status: 500 });
    const r = await chat(p);
    expect(r.status).toBe(200);
    expect(r.headers.get('x-switchyard-attempts')).toBe('3');
    expect(r.headers.get('x-switchyard-endpoint')).toMatch(/^secondary\//);
    for (const s of primary) expect(s.stats().byPath['/v1/chat/completions']).toBe(1);
  });
});
