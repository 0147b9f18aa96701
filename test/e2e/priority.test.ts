/**
 * Priority and fairness under overload, through the real proxy and a simulator replica (docs/priority.md): classes
 * strictly ordered in the wait queue, a tenant's header honoured only where its policy allows it, tenant shares by
 * weight, per-class timeouts, the critical reserve, load shedding (no slot, saturation reported by the replica's
 * metrics) in each surface's shape, and the fifo discipline. The replica's one slot is held by a request that hangs
 * until the test aborts it, so the queue fills before anything is served; admission order is read from the order the
 * simulator received requests (one slot: one at a time).
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../sim/index.js';
import { lineSink } from '../support/log.js';
import { keysSecret, poolManifests, priorityMixTenants } from '../support/manifests.js';
import { scrape } from '../support/metrics-scrape.js';
import { sampleSum } from '../support/prom-text.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { waitFor } from '../support/wait.js';

const KEYS = {
  ops: 'sk-prio-ops-7d1e0c9b8a',
  web: 'sk-prio-web-3c2b1a0f9e',
  bulk: 'sk-prio-bulk-5e4d3c2b1a',
  batch: 'sk-prio-batch-9f8e7d6c5b',
  app: 'sk-prio-app-1a2b3c4d5e',
} as const;
type Tenant = keyof typeof KEYS;

let sim: Simulator | undefined;
/** The proxy's log lines (the access log among them) since the last `start`. */
let logLines: string[] = [];
let proxy: TestProxy | undefined;
afterEach(async () => {
  await proxy?.stop();
  proxy = undefined;
  await sim?.close();
  sim = undefined;
});

/** One replica (`slots` slots in the proxy), a pool with `poolSpec` and a policy with five tenants. */
async function start(opts: { slots?: number; poolSpec: string; simOpts?: Parameters<typeof startSimulator>[0] }) {
  const s = await startSimulator({ flavour: 'vllm', models: ['m'], ttftMs: 1, itlMs: 0, ...opts.simOpts });
  sim = s;
  logLines = [];
  const pool = poolManifests({
    name: 'replica',
    poolName: 'm',
    model: 'm',
    urls: [`${s.url}/v1`],
    backendSpec: `${opts.slots !== undefined ? `  maxConcurrency: ${opts.slots}\n` : ''}  metrics: { interval: 100ms }`,
    poolSpec: opts.poolSpec,
  });
  const policy = `apiVersion: switchyard.dev/v1alpha1
kind: RoutePolicy
metadata: { name: teams }
spec:
  rules:
    - { match: { model: { value: m } } }
    - { match: { model: { value: m }, headers: [{ name: x-batch, value: "1" }] }, priority: sheddable }
  tenants:
${priorityMixTenants}
    - name: app
      apiKeys: [{ name: keys, key: app }]
      priorityHeader: { allowed: [critical, sheddable] }
`;
  const p = await startTestProxy([keysSecret(KEYS), pool, policy].join('---\n'), {
    log: pino({ level: 'info' }, lineSink(logLines)),
  });
  proxy = p;
  return { s, p };
}

/** A chat completion of `tenant` whose prompt names it (`label`), so the simulator's request log tells who it was. */
function ask(
  p: TestProxy,
  tenant: Tenant,
  label: string,
  opts: {
    priority?: string;
    signal?: AbortSignal;
    surface?: 'openai' | 'anthropic' | 'ollama';
    maxTokens?: number;
  } = {},
) {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    authorization: `Bearer ${KEYS[tenant]}`,
  };
  if (opts.priority) headers['x-switchyard-priority'] = opts.priority;
  const messages = [{ role: 'user', content: label }];
  const [path, body] =
    opts.surface === 'anthropic'
      ? ['/v1/messages', { model: 'm', max_tokens: opts.maxTokens ?? 2, messages }]
      : opts.surface === 'ollama'
        ? ['/api/chat', { model: 'm', stream: false, options: { num_predict: 2 }, messages }]
        : ['/v1/chat/completions', { model: 'm', max_tokens: opts.maxTokens ?? 2, messages }];
  if (opts.surface === 'anthropic') headers['anthropic-version'] = '2023-06-01';
  return fetch(`${p.url}${path}`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
}

/** Takes the replica's only slot with a request that hangs until `release()`. */
async function holdSlot(p: TestProxy, s: Simulator) {
  const ctl = new AbortController();
  const held = ask(p, 'bulk', 'holder [sim hang]', { signal: ctl.signal }).catch(() => undefined);
  await waitFor(() => s.stats().hanging === 1, 5000, 'the holder on the replica');
  return {
    release: async () => {
      ctl.abort();
      await held;
    },
  };
}

const waiting = async (p: TestProxy) => sampleSum(await scrape(p.adminUrl), 'switchyard_pool_queued_requests');

/** Sends each request once the previous one is waiting, so they queue in this order. */
async function queueInOrder(p: TestProxy, send: Array<() => Promise<Response>>): Promise<Array<Promise<Response>>> {
  const sent: Array<Promise<Response>> = [];
  for (const [i, f] of send.entries()) {
    sent.push(f());
    await waitFor(async () => (await waiting(p)) === i + 1, 5000, `${i + 1} requests waiting`);
  }
  return sent;
}

/** The labels of the chat requests the replica received, in order, without the holder. */
const served = (s: Simulator) =>
  s
    .requests()
    .filter((r) => r.path === '/v1/chat/completions')
    .map((r) => (r.body as { messages: Array<{ content: string }> }).messages[0]?.content ?? '')
    .filter((c) => !c.startsWith('holder'));

const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string } }).error;

describe('priority classes', () => {
  it('serves critical, then standard, then sheddable, whatever the arrival order; a header counts only where allowed', async () => {
    const { s, p } = await start({
      slots: 1,
      poolSpec: '  scheduling: { queue: { maxSize: 10, timeout: 30s, classes: { sheddable: { timeout: 30s } } } }',
    });
    const holder = await holdSlot(p, s);
    const sent = await queueInOrder(p, [
      () => ask(p, 'batch', 'batch'),
      () => ask(p, 'web', 'web'),
      () => ask(p, 'web', 'web-asks-critical', { priority: 'critical' }), // web may not choose: standard
      () => ask(p, 'app', 'app-asks-critical', { priority: 'critical' }),
      () => ask(p, 'ops', 'ops'),
      () => ask(p, 'app', 'app-asks-sheddable', { priority: 'sheddable' }),
    ]);
    await holder.release();
    expect((await Promise.all(sent)).map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(served(s)).toEqual(['app-asks-critical', 'ops', 'web', 'web-asks-critical', 'batch', 'app-asks-sheddable']);
    const m = await scrape(p.adminUrl);
    const admitted = (cls: string, tenant: string) =>
      sampleSum(m, 'switchyard_pool_admitted_total', { pool: 'default/m', class: cls, tenant });
    expect(admitted('critical', 'app')).toBe(1);
    expect(admitted('sheddable', 'app')).toBe(1);
    expect(admitted('standard', 'web')).toBe(2);
    expect(admitted('critical', 'web')).toBe(0);
    expect(
      sampleSum(m, 'switchyard_pool_queue_wait_seconds_count', { class: 'critical', tenant: 'ops', outcome: 'woken' }),
    ).toBe(1);
  });

  it('shares the slots of a saturated pool between tenants of a class by weight (3:1, exact within one request)', async () => {
    const { s, p } = await start({ slots: 1, poolSpec: '  scheduling: { queue: { maxSize: 200, timeout: 60s } }' });
    const holder = await holdSlot(p, s);
    const sent: Array<Promise<Response>> = [];
    for (let i = 0; i < 40; i++) sent.push(ask(p, 'web', `web-${i}`), ask(p, 'bulk', `bulk-${i}`));
    await waitFor(async () => (await waiting(p)) === 80, 10_000, '80 requests waiting');
    await holder.release();
    expect((await Promise.all(sent)).every((r) => r.status === 200)).toBe(true);
    const first40 = served(s).slice(0, 40);
    const web = first40.filter((l) => l.startsWith('web-')).length;
    expect(Math.abs(web - 30)).toBeLessThanOrEqual(1);
    // Within a tenant, first in first out.
    const webOrder = served(s).filter((l) => l.startsWith('web-'));
    expect(webOrder).toEqual(
      Array.from({ length: 40 }, (_, i) => `web-${i}`).sort((a, b) => webOrder.indexOf(a) - webOrder.indexOf(b)),
    );
  });

  it('times each class out on its own: standard gives up while critical still waits', async () => {
    const { s, p } = await start({
      slots: 1,
      poolSpec: '  scheduling: { queue: { maxSize: 10, timeout: 300ms, classes: { critical: { timeout: 60s } } } }',
    });
    const holder = await holdSlot(p, s);
    const critical = ask(p, 'ops', 'ops');
    const standard = await ask(p, 'web', 'web');
    expect(standard.status).toBe(503);
    const e = await errorOf(standard);
    expect(e.code).toBe('pool_saturated');
    expect(e.message).toContain('waited the standard queue timeout');
    expect(await waiting(p)).toBe(1); // the critical request is still queued
    await holder.release();
    expect((await critical).status).toBe(200);
    const m = await scrape(p.adminUrl);
    expect(
      sampleSum(m, 'switchyard_requests_shed_total', { class: 'standard', tenant: 'web', reason: 'timeout' }),
    ).toBe(1);
    // The access log tells each request's class, its wait and why it was refused.
    const access = logLines
      .map(
        (l) => JSON.parse(l) as { log?: string; tenant?: string; priority?: string; queuedMs?: number; shed?: string },
      )
      .filter((l) => l.log === 'access' && l.tenant !== 'bulk');
    const web = access.find((l) => l.tenant === 'web');
    expect(web).toMatchObject({ priority: 'standard', shed: 'timeout' });
    expect(web?.queuedMs).toBeGreaterThanOrEqual(250);
    const ops = access.find((l) => l.tenant === 'ops');
    expect(ops).toMatchObject({ priority: 'critical' });
    expect(ops?.shed).toBeUndefined();
    expect(ops?.queuedMs).toBeGreaterThan(0);
  });

  it('keeps the critical reserve for critical requests: they get a slot while a standard one queues', async () => {
    const { s, p } = await start({
      slots: 2,
      poolSpec: '  scheduling: { queue: { maxSize: 10, timeout: 60s }, overload: { criticalReserve: 0.5 } }',
    });
    const holder = await holdSlot(p, s); // 1 of 2 slots: the other is the reserve
    const standard = ask(p, 'web', 'web');
    await waitFor(async () => (await waiting(p)) === 1, 5000, 'the standard request waiting');
    const critical = await ask(p, 'ops', 'ops');
    expect(critical.status).toBe(200);
    expect(await waiting(p)).toBe(1);
    await holder.release();
    expect((await standard).status).toBe(200);
    expect(served(s)).toEqual(['ops', 'web']);
  });

  it('queues in arrival order with the fifo discipline: classes and tenants ignored', async () => {
    const { s, p } = await start({
      slots: 1,
      poolSpec: '  scheduling: { queue: { maxSize: 10, timeout: 30s, discipline: fifo } }',
    });
    const holder = await holdSlot(p, s);
    const sent = await queueInOrder(p, [
      () => ask(p, 'batch', 'batch'),
      () => ask(p, 'web', 'web'),
      () => ask(p, 'ops', 'ops'),
    ]);
    await holder.release();
    expect((await Promise.all(sent)).map((r) => r.status)).toEqual([200, 200, 200]);
    expect(served(s)).toEqual(['batch', 'web', 'ops']);
  });
});

describe('load shedding', () => {
  it('refuses sheddable requests at once when no slot is free, with Retry-After and x-should-retry, in each surface shape', async () => {
    const { s, p } = await start({ slots: 1, poolSpec: '  scheduling: { queue: { maxSize: 10, timeout: 30s } }' });
    const holder = await holdSlot(p, s);
    const openai = await ask(p, 'batch', 'batch');
    expect(openai.status).toBe(503);
    expect(openai.headers.get('retry-after')).toBe('1');
    expect(openai.headers.get('x-should-retry')).toBe('true');
    const e = await errorOf(openai);
    expect(e.code).toBe('load_shed');
    expect(e.message).toContain('sheddable requests do not wait');
    const anthropic = await ask(p, 'batch', 'batch', { surface: 'anthropic' });
    expect(anthropic.status).toBe(503);
    const body = (await anthropic.json()) as { type: string; error: { type: string } };
    expect(body).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    expect(anthropic.headers.get('retry-after')).toBe('1');
    const ollama = await ask(p, 'batch', 'batch', { surface: 'ollama' });
    expect(ollama.status).toBe(503);
    expect(ollama.headers.get('retry-after')).toBe('1');
    expect((await ollama.json()) as { error: unknown }).toEqual({
      error: expect.stringContaining('sheddable requests do not wait'),
    });
    // A rule's class: web is a standard tenant, but its requests with x-batch: 1 are sheddable.
    const ruled = await fetch(`${p.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS.web}`, 'x-batch': '1' },
      body: JSON.stringify({ model: 'm', max_tokens: 2, messages: [{ role: 'user', content: 'ruled' }] }),
    });
    expect(ruled.status).toBe(503);
    expect((await errorOf(ruled)).code).toBe('load_shed');
    // A standard request of the same moment waits and is served.
    const standard = ask(p, 'web', 'web');
    await waitFor(async () => (await waiting(p)) === 1, 5000, 'the standard request waiting');
    await holder.release();
    expect((await standard).status).toBe(200);
    const m = await scrape(p.adminUrl);
    expect(sampleSum(m, 'switchyard_requests_shed_total', { class: 'sheddable', reason: 'no_slot' })).toBe(4);
    expect(sampleSum(m, 'switchyard_requests_shed_total', { class: 'sheddable', tenant: 'web' })).toBe(1);
  });

  it('sheds sheddable requests while the replica reports a saturated queue, and lets the others through', async () => {
    // No cap in the proxy: requests queue in the replica (1 slot), which reports them in its /metrics.
    const { s, p } = await start({
      poolSpec: '  scheduling: { llmAware: { maxQueueDepth: 1 }, overload: { shedOnSaturation: true } }',
      simOpts: { maxConcurrency: 1, itlMs: 20 },
    });
    const ctl = new AbortController();
    const hung = [0, 1, 2].map((i) =>
      ask(p, 'bulk', `holder-${i} [sim output-tokens=100000]`, { signal: ctl.signal, maxTokens: 100_000 }).catch(
        () => undefined,
      ),
    );
    await waitFor(() => s.stats().waiting === 2, 5000, 'two requests waiting in the replica');
    await waitFor(
      async () => {
        const res = await fetch(`${p.adminUrl}/config/endpoints`);
        return JSON.stringify(await res.json()).includes('"waiting":2');
      },
      5000,
      'the proxy scraping the replica queue',
    );
    const shed = await ask(p, 'batch', 'batch');
    expect(shed.status).toBe(503);
    expect((await errorOf(shed)).message).toContain('is saturated');
    const critical = ask(p, 'ops', 'ops'); // queues in the replica, behind the hung ones
    await waitFor(() => s.stats().waiting === 3, 5000, 'the critical request reaching the replica');
    ctl.abort();
    await Promise.all(hung);
    expect((await critical).status).toBe(200);
    const m = await scrape(p.adminUrl);
    expect(sampleSum(m, 'switchyard_requests_shed_total', { class: 'sheddable', reason: 'saturated' })).toBe(1);
  });
});

describe('overload', () => {
  /** `n` closed-loop clients of `tenant` sending until `stop()`; the statuses and latencies of what they got. */
  function load(p: TestProxy, tenant: Tenant, n: number, pauseMs = 0) {
    let running = true;
    const results: Array<{ status: number; ms: number; code?: string }> = [];
    const clients = Array.from({ length: n }, async (_, c) => {
      for (let i = 0; running; i++) {
        const t0 = performance.now();
        const res = await ask(p, tenant, `${tenant}-${c}-${i}`);
        const ms = performance.now() - t0;
        results.push(res.ok ? { status: res.status, ms } : { status: res.status, ms, code: (await errorOf(res)).code });
        if (res.ok) await res.arrayBuffer();
        if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs)); // pacing: refusals come back at once
      }
    });
    return {
      results,
      stop: async () => {
        running = false;
        await Promise.all(clients);
      },
    };
  }

  it('keeps critical requests fast and successful while standard ones queue by tenant weight and sheddable ones are shed', async () => {
    const { s, p } = await start({
      slots: 2,
      poolSpec: '  scheduling: { queue: { maxSize: 100, timeout: 60s } }',
      simOpts: { ttftMs: 20 },
    });
    // Offered load: 12 standard clients (web weight 3, bulk weight 1) and 4 sheddable ones for 2 slots.
    const web = load(p, 'web', 6);
    const bulk = load(p, 'bulk', 6);
    const batch = load(p, 'batch', 4, 20);
    await waitFor(async () => (await waiting(p)) >= 8, 10_000, 'a backlog of standard requests');
    const critical: Array<{ status: number; ms: number }> = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      const res = await ask(p, 'ops', `ops-${i}`);
      critical.push({ status: res.status, ms: performance.now() - t0 });
    }
    await Promise.all([web.stop(), bulk.stop(), batch.stop()]);
    expect(critical.every((r) => r.status === 200)).toBe(true);
    expect([...web.results, ...bulk.results].every((r) => r.status === 200)).toBe(true);
    expect(batch.results.some((r) => r.status === 503 && r.code === 'load_shed')).toBe(true);
    expect(batch.results.every((r) => r.status === 200 || r.code === 'load_shed')).toBe(true);

    // Critical requests waited for one slot to free, not behind the standard backlog: compare the same run's waits.
    const m = await scrape(p.adminUrl);
    const meanWait = (cls: string) =>
      sampleSum(m, 'switchyard_pool_queue_wait_seconds_sum', { class: cls }) /
      sampleSum(m, 'switchyard_pool_queue_wait_seconds_count', { class: cls });
    expect(meanWait('critical')).toBeLessThan(meanWait('standard') / 4);
    const mean = (xs: Array<{ ms: number }>) => xs.reduce((a, r) => a + r.ms, 0) / xs.length;
    expect(mean(critical)).toBeLessThan(mean([...web.results, ...bulk.results]) / 2);

    // Both standard tenants stayed backlogged, so they shared the slots 3:1.
    const admitted = (tenant: string) => sampleSum(m, 'switchyard_pool_admitted_total', { class: 'standard', tenant });
    const share = admitted('web') / (admitted('web') + admitted('bulk'));
    expect(share).toBeGreaterThan(0.75 - 0.075);
    expect(share).toBeLessThan(0.75 + 0.075);
    expect(sampleSum(m, 'switchyard_requests_shed_total', { class: 'sheddable', reason: 'no_slot' })).toBe(
      batch.results.filter((r) => r.status === 503).length,
    );
    expect(s.stats().completed).toBeGreaterThan(0);
  });
});
