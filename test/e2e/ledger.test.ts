/**
 * The usage ledger end to end: a proxy writing every finished request to a real PostgreSQL (tenant, policy, key id,
 * model, pool, tokens, cost, status, stream; never a key or prompt text), and serving on while the database is
 * killed under load: requests keep their latency, entries past the buffer are dropped and counted, the buffered
 * ones are written once it is back; the outage and the loss show in the metrics. A proxy started while the database
 * is down serves at once and migrates the schema and writes its entries once it is reachable.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../sim/index.js';
import { scrape } from '../support/metrics-scrape.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { sampleSum } from '../support/prom-text.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { waitFor } from '../support/wait.js';
import { ask, backendAndPool, chat, KEYS, KEYS_SECRET, routePolicy } from './governance-fixtures.js';

let db: TestPostgres;
let sim: Simulator;
let proxy: TestProxy;

const PROMPT = 'Say something short.';

beforeAll(async () => {
  [db, sim] = await Promise.all([startPostgres(), startSimulator({ flavour: 'vllm', outputTokens: 8 })]);
  const manifests = [
    KEYS_SECRET,
    backendAndPool('chat', 'chat-model', [sim.url]),
    backendAndPool('open', 'open-model', [sim.url]),
    routePolicy(
      'team',
      `  rules: [{ match: { model: { value: chat-model } } }]
  tenants:
    - name: team-a
      apiKeys: [{ name: api-keys, key: team-a }]`,
    ),
  ].join('');
  proxy = await startTestProxy(manifests, {
    ledger: { url: db.url, flushIntervalMs: 20, maxBuffer: 50 },
    usageToken: 'usage-reader-token',
  });
});

afterAll(async () => {
  await proxy?.stop();
  await sim?.close();
  await db?.close();
});

const rows = () => db.query('SELECT * FROM switchyard.usage ORDER BY finished_at');
const count = async () => Number((await db.query('SELECT count(*) AS n FROM switchyard.usage'))[0]?.n);

describe('usage ledger', () => {
  it('records every finished request with its caller, route, usage, cost and outcome, and no secret or prompt', async () => {
    expect((await chat(proxy.url, ask('chat-model'), { key: KEYS.teamA })).status).toBe(200);
    expect((await chat(proxy.url, ask('open-model', { stream: true }))).status).toBe(200);
    expect((await chat(proxy.url, ask('chat-model'))).status).toBe(401);
    await waitFor(async () => (await count().catch(() => 0)) === 3, 10_000, 'three ledger entries');
    const [keyed, streamed, refused] = await rows();
    expect(keyed).toMatchObject({
      surface: 'openai',
      policy: 'default/team',
      tenant: 'team-a',
      model: 'chat-model',
      pool: 'default/chat',
      backend: 'default/chat',
      stream: false,
      status: 200,
      attempts: 1,
      output_tokens: '5',
      usage_estimated: false,
      currency: 'USD',
    });
    expect(keyed?.key_id).toMatch(/^[0-9a-f]{16}$/);
    expect(Number(keyed?.input_tokens)).toBeGreaterThan(0);
    expect(Number(keyed?.cost)).toBeCloseTo((Number(keyed?.input_tokens) * 1 + 5 * 2) / 1e6, 12);
    expect(streamed).toMatchObject({ tenant: null, key_id: null, pool: 'default/open', stream: true, status: 200 });
    expect(refused).toMatchObject({ status: 401, error_code: 'missing_api_key', attempts: 0, input_tokens: '0' });
    const dump = JSON.stringify(await rows());
    for (const secret of [KEYS.teamA, PROMPT]) expect(dump).not.toContain(secret);
  });

  it('answers usage and spend by tenant, key, model and period on the admin port, to bearer tokens only', async () => {
    const usage = (query: string, token?: string) =>
      fetch(`${proxy.adminUrl}/usage${query}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    expect((await usage('?groupBy=tenant')).status).toBe(401);
    expect((await usage('?groupBy=tenant', 'wrong')).status).toBe(401);
    const bad = await usage('?groupBy=tenant,prompt&from=yesterday', 'usage-reader-token');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toMatch(/unknown dimension prompt.*|from:/);

    const byTenant = await usage('?groupBy=tenant,model&interval=day', 'usage-reader-token');
    expect(byTenant.status).toBe(200);
    const body = (await byTenant.json()) as {
      rows: Array<Record<string, unknown>>;
      groupBy: string[];
      truncated: boolean;
    };
    expect(body.groupBy).toEqual(['tenant', 'model']);
    expect(body.truncated).toBe(false);
    const day = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate()));
    expect(body.rows).toContainEqual({
      period: day.toISOString(),
      tenant: 'team-a',
      model: 'chat-model',
      currency: 'USD',
      requests: 1,
      errors: 0,
      inputTokens: expect.any(Number),
      outputTokens: 5,
      cachedInputTokens: 0,
      cost: expect.any(Number),
    });
    const [keyed] = (await db.query('SELECT key_id FROM switchyard.usage WHERE tenant IS NOT NULL')) as Array<{
      key_id: string;
    }>;
    const byKey = await usage(`?keyId=${keyed?.key_id}&groupBy=keyId`, 'test-push-token');
    expect(byKey.status).toBe(200);
    expect(((await byKey.json()) as { rows: unknown[] }).rows).toEqual([
      expect.objectContaining({ keyId: keyed?.key_id, requests: 1 }),
    ]);
  });

  it('keeps serving while the database is down: nothing waits for it, loss past the buffer is counted, the rest is written after it is back', async () => {
    await db.query('TRUNCATE switchyard.usage');
    await db.stop();
    const n = 200;
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: n }, () => chat(proxy.url, ask('open-model'))));
    expect(results.every((r) => r.status === 200)).toBe(true);
    const ledger = proxy.ledger;
    if (!ledger) throw new Error('no ledger');
    const s = ledger.stats();
    expect(s.buffered + s.dropped.buffer_full).toBeGreaterThanOrEqual(n);
    expect(s.buffered).toBeLessThanOrEqual(50);
    expect(s.dropped.buffer_full).toBeGreaterThanOrEqual(n - 50);
    // The loss and the outage are in the metrics.
    const metric = async (name: string, labels: Record<string, string> = {}) =>
      sampleSum(await scrape(proxy.adminUrl), name, labels);
    await waitFor(async () => (await metric('switchyard_ledger_up')) === 0, 10_000, 'switchyard_ledger_up 0');
    expect(await metric('switchyard_ledger_entries_dropped_total', { reason: 'buffer_full' })).toBe(
      s.dropped.buffer_full,
    );
    expect(await metric('switchyard_ledger_buffered_entries')).toBe(ledger.stats().buffered);
    const writtenBefore = await metric('switchyard_ledger_entries_written_total');
    // The requests were answered while every write failed: the ledger added no wait to them.
    expect(Date.now() - started).toBeLessThan(20_000);
    await db.start();
    await waitFor(() => ledger.stats().buffered === 0, 30_000, 'the buffered entries written');
    expect(await count()).toBe(n - s.dropped.buffer_full);
    expect(await metric('switchyard_ledger_up')).toBe(1);
    expect(await metric('switchyard_ledger_entries_written_total')).toBe(writtenBefore + n - s.dropped.buffer_full);
    expect(await metric('switchyard_ledger_buffered_entries')).toBe(0);
  });

  it('starts and serves with the database down, and migrates and writes once it is reachable', async () => {
    await db.query('CREATE DATABASE fresh');
    const freshUrl = db.url.replace(/\/postgres$/, '/fresh');
    await db.stop();
    const late = await startTestProxy([backendAndPool('open', 'open-model', [sim.url])].join(''), {
      ledger: { url: freshUrl, flushIntervalMs: 20 },
    });
    try {
      const results = await Promise.all(Array.from({ length: 5 }, () => chat(late.url, ask('open-model'))));
      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      const ledger = late.ledger;
      if (!ledger) throw new Error('no ledger');
      expect(ledger.stats().buffered).toBe(5);
      await db.start();
      await waitFor(() => ledger.stats().written === 5, 30_000, 'the entries written once the database is up');
      const fresh = new pg.Client({ connectionString: freshUrl });
      await fresh.connect();
      try {
        const { rows: counted } = await fresh.query('SELECT count(*)::int AS n FROM switchyard.usage');
        expect(counted[0]?.n).toBe(5);
      } finally {
        await fresh.end();
      }
    } finally {
      await late.stop();
    }
  });
});
