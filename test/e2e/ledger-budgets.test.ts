/**
 * Durable budgets: a tenant's daily token budget kept in Redis is rebuilt from the usage ledger after Redis loses
 * it (FLUSHALL). A proxy without a ledger on the same Redis shows what the flush did without the rebuild. Spend also
 * survives restarts: a monthly cost budget spent through one proxy stays spent for a new proxy after Redis itself
 * restarted empty, and the new proxy's usage API reports what the first one served.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../sim/index.js';
import { scrape } from '../support/metrics-scrape.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { sampleSum } from '../support/prom-text.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { waitFor } from '../support/wait.js';
import { ask, backendAndPool, chat, KEYS, KEYS_SECRET, routePolicy } from './governance-fixtures.js';

let db: TestPostgres;
let redis: TestRedis;
let sim: Simulator;
let durable: TestProxy;
let forgetful: TestProxy;
let manifests: string;

beforeAll(async () => {
  [db, redis, sim] = await Promise.all([
    startPostgres(),
    startRedis(),
    startSimulator({ flavour: 'vllm', outputTokens: 20 }),
  ]);
  manifests = [
    KEYS_SECRET,
    backendAndPool('chat', 'chat-model', [sim.url]),
    routePolicy(
      'team',
      `  rules: [{ match: { model: { value: chat-model } } }]
  tenants:
    - name: team-a
      apiKeys: [{ name: api-keys, key: team-a }]
      limits: { tokensPerDay: 200 }
    - name: team-b
      apiKeys: [{ name: api-keys, key: team-b }]
      limits: { costPerMonth: 0.0003 }`,
    ),
  ].join('');
  [durable, forgetful] = await Promise.all([
    startTestProxy(manifests, { redisUrl: redis.url, ledger: { url: db.url, flushIntervalMs: 20 } }),
    startTestProxy(manifests, { redisUrl: redis.url }),
  ]);
});

afterAll(async () => {
  await Promise.all([durable?.stop(), forgetful?.stop()]);
  await sim?.close();
  await Promise.all([redis?.close(), db?.close()]);
});

const request = (p: TestProxy, key: string = KEYS.teamA) => chat(p.url, ask('chat-model', { max_tokens: 20 }), { key });

/** Sends requests until the budget refuses one (429); returns how many were served before. */
async function spendBudget(send: () => ReturnType<typeof request>): Promise<number> {
  let served = 0;
  for (let i = 0; i < 40; i++) {
    const r = await send();
    if (r.status === 429) break;
    expect(r.status).toBe(200);
    served++;
  }
  expect(served).toBeGreaterThan(1);
  expect((await send()).status).toBe(429);
  return served;
}

describe('budgets rebuilt from the usage ledger', () => {
  it('keeps a spent daily budget spent after Redis is flushed', async () => {
    const served = await spendBudget(() => request(durable));
    const ledger = durable.ledger;
    if (!ledger) throw new Error('no ledger');
    await waitFor(
      () => ledger.stats().written >= served + 2 && ledger.stats().buffered === 0,
      10_000,
      'ledger written',
    );

    await redis.command('FLUSHALL');
    // Without the ledger the flush gave the tenant a fresh budget...
    expect((await request(forgetful)).status).toBe(200);
    await redis.command('FLUSHALL');
    // ...with it, the budget is rebuilt from what the tenant used today.
    const denied = await request(durable);
    expect(denied.status).toBe(429);
    expect(JSON.stringify(denied.body)).toContain('Budget exhausted');
    expect(
      sampleSum(await scrape(durable.adminUrl), 'switchyard_budget_rebuilds_total', { result: 'seeded' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('keeps a monthly cost budget spent across a proxy restart and a Redis restart', async () => {
    const ledgerOpts = { ledger: { url: db.url, flushIntervalMs: 20 }, usageToken: 'usage-reader' };
    const first = await startTestProxy(manifests, { redisUrl: redis.url, ...ledgerOpts });
    let served = 0;
    try {
      served = await spendBudget(() => request(first, KEYS.teamB));
    } finally {
      await first.stop(); // writes what is still buffered
    }

    await redis.stop();
    await redis.start(); // no persistence: every counter and seed marker is gone
    expect(await redis.command('DBSIZE')).toMatch(/^:0\r?\n/);

    const second = await startTestProxy(manifests, { redisUrl: redis.url, ...ledgerOpts });
    try {
      const denied = await request(second, KEYS.teamB);
      expect(denied.status).toBe(429);
      expect(JSON.stringify(denied.body)).toContain('Budget exhausted');
      const usage = await fetch(`${second.adminUrl}/usage?tenant=team-b&groupBy=tenant,status`, {
        headers: { authorization: 'Bearer usage-reader' },
      });
      const rows = ((await usage.json()) as { rows: Array<{ status: number; requests: number; cost: number }> }).rows;
      const ok = rows.find((r) => r.status === 200);
      expect(ok?.requests).toBe(served);
      expect(ok?.cost).toBeGreaterThan(0.0003 * 0.5);
    } finally {
      await second.stop();
    }
  });
});
