import { randomUUID } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../../../test/support/postgres.js';
import { waitFor } from '../../../test/support/wait.js';
import type { LedgerEntry } from './entry.js';
import { createLedger, type Ledger } from './index.js';
import { LATEST_VERSION, migrate } from './migrations.js';
import type { DropReason } from './writer.js';

const log = pino({ level: 'silent' });
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 3, 12);

function entry(over: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    id: randomUUID(),
    requestId: 'req',
    startedAt: T0 - 120,
    finishedAt: T0,
    surface: 'openai',
    policy: 'team/policy',
    tenant: 'alpha',
    keyId: 'k-alpha',
    model: 'llama',
    pool: 'team/llama',
    backend: 'team/vllm',
    endpoint: 'team/vllm/0',
    stream: false,
    status: 200,
    attempts: 1,
    inputTokens: 10,
    outputTokens: 5,
    cachedInputTokens: 0,
    usageEstimated: false,
    cost: 0.5,
    currency: 'USD',
    ...over,
  };
}

describe('usage ledger (real PostgreSQL)', () => {
  let db: TestPostgres;
  const ledgers: Ledger[] = [];
  const open = (o: Partial<Parameters<typeof createLedger>[0]> = {}) => {
    const l = createLedger({ url: db.url, log, flushIntervalMs: 20, ...o });
    ledgers.push(l);
    return l;
  };
  const rows = async () => Number((await db.query('SELECT count(*) AS n FROM switchyard.usage'))[0]?.n);

  beforeAll(async () => {
    db = await startPostgres();
  });
  afterAll(async () => {
    await Promise.all(ledgers.map((l) => l.close(1000)));
    await db?.close();
  });

  it('migrates a database once, also when replicas migrate it at the same time', async () => {
    const pools = [1, 2, 3].map(() => new pg.Pool({ connectionString: db.url, max: 1 }));
    try {
      const applied = await Promise.all(pools.map((p) => migrate(p)));
      expect(applied.flat()).toEqual([LATEST_VERSION]);
      expect(await migrate(pools[0] as pg.Pool)).toEqual([]);
      const versions = await db.query('SELECT version FROM switchyard.schema_migrations');
      expect(versions).toEqual([{ version: 1 }]);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it('writes entries in batches and answers usage and spend by tenant, key, model and period', async () => {
    await db.query('TRUNCATE switchyard.usage');
    const ledger = open({ batchSize: 3 });
    const entries = [
      entry(),
      entry({ finishedAt: T0 + 1000, inputTokens: 20, cachedInputTokens: 4, cost: 1 }),
      entry({ tenant: 'beta', keyId: 'k-beta', model: 'qwen', pool: 'team/qwen', cost: 2 }),
      entry({ finishedAt: T0 + DAY, status: 502, errorCode: 'upstream_error', cost: 0.25 }),
      entry({ tenant: 'beta', keyId: 'k-beta', currency: 'EUR', cost: 3 }),
      entry({ policy: undefined, tenant: undefined, keyId: undefined, cost: undefined, currency: undefined }),
      entry({ finishedAt: T0 - 40 * DAY }),
    ];
    for (const e of entries) ledger.record(e);
    await waitFor(async () => (await rows()) === entries.length, 10_000, 'every entry written');
    expect(ledger.stats()).toMatchObject({ up: true, buffered: 0, written: entries.length });

    const byTenant = await ledger.queryUsage({
      from: new Date(T0 - DAY),
      to: new Date(T0 + 2 * DAY),
      groupBy: ['tenant'],
      filters: {},
      limit: 100,
    });
    const find = (tenant: string | null, currency: string | null) =>
      byTenant.find((r) => r.group.tenant === tenant && r.currency === currency);
    expect(find('alpha', 'USD')).toEqual({
      group: { tenant: 'alpha' },
      currency: 'USD',
      requests: 3,
      errors: 1,
      inputTokens: 40,
      outputTokens: 15,
      cachedInputTokens: 4,
      cost: 1.75,
    });
    expect(find('beta', 'USD')?.cost).toBe(2);
    expect(find('beta', 'EUR')?.cost).toBe(3);
    expect(find(null, null)).toMatchObject({ requests: 1, cost: null });
    expect(byTenant).toHaveLength(4); // the entry 40 days old is outside the period

    const daily = await ledger.queryUsage({
      from: new Date(T0 - DAY),
      to: new Date(T0 + 2 * DAY),
      groupBy: ['keyId', 'model'],
      interval: 'day',
      filters: { tenant: 'alpha' },
      limit: 100,
    });
    expect(daily.map((r) => [r.period, r.group.keyId, r.group.model, r.requests, r.cost])).toEqual([
      [new Date(Date.UTC(2026, 10, 3)).toISOString(), 'k-alpha', 'llama', 2, 1.5],
      [new Date(Date.UTC(2026, 10, 4)).toISOString(), 'k-alpha', 'llama', 1, 0.25],
    ]);
  });

  it('sums what a budget counter counts: its pools, and its tenant or key', async () => {
    const ledger = open();
    const from = new Date(T0 - DAY);
    const to = new Date(T0 + 2 * DAY);
    expect(
      await ledger.budgetUsage({ pools: ['team/llama'], tenant: { policy: 'team/policy', name: 'alpha' }, from, to }),
    ).toEqual({ tokens: 10 + 5 + 20 + 5 + 10 + 5, cost: 1.75 });
    expect(await ledger.budgetUsage({ pools: ['team/llama', 'team/qwen'], keyId: 'k-beta', from, to })).toEqual({
      tokens: 30,
      cost: 5,
    });
    expect(await ledger.budgetUsage({ pools: ['elsewhere'], from, to })).toEqual({ tokens: 0, cost: 0 });
  });

  it('never blocks while the database is down: entries are buffered up to the bound, the rest dropped and counted, and written once it is back', async () => {
    await db.query('TRUNCATE switchyard.usage');
    const drops: Record<string, number> = {};
    const states: boolean[] = [];
    const ledger = open({
      maxBuffer: 500,
      batchSize: 100,
      events: {
        onDropped: (n: number, reason: DropReason) => {
          drops[reason] = (drops[reason] ?? 0) + n;
        },
        onState: (up: boolean) => states.push(up),
      },
    });
    ledger.record(entry());
    await waitFor(async () => (await rows()) === 1, 10_000, 'the first entry written');
    await db.stop();
    const sent = 5000;
    for (let i = 0; i < sent; i++) ledger.record(entry({ requestId: `r${i}` }));
    // record() returned for every entry without waiting: all are accounted for at once.
    const s = ledger.stats();
    expect(s.buffered + s.dropped.buffer_full).toBe(sent);
    expect(s.buffered).toBe(500);
    expect(drops.buffer_full).toBe(sent - 500);
    await waitFor(() => ledger.stats().up === false, 10_000, 'the writer to notice the database is down');
    await db.start();
    await waitFor(async () => (await rows().catch(() => 0)) === 501, 30_000, 'the buffered entries written');
    expect(states).toEqual([true, false, true]);
    expect(ledger.stats()).toMatchObject({ up: true, buffered: 0, written: 501, dropped: { buffer_full: 4500 } });
  });

  it('drops and counts a batch the database refuses for its data, and goes on writing', async () => {
    await db.query('TRUNCATE switchyard.usage');
    const ledger = open({ batchSize: 1 });
    ledger.record(entry({ id: 'not-a-uuid' }));
    ledger.record(entry());
    await waitFor(async () => (await rows()) === 1, 10_000, 'the valid entry written');
    expect(ledger.stats().dropped.rejected).toBe(1);
  });

  it('writes an entry once even when its batch is retried', async () => {
    await db.query('TRUNCATE switchyard.usage');
    const ledger = open();
    const e = entry();
    ledger.record(e);
    ledger.record(e);
    await waitFor(() => ledger.stats().written === 2, 10_000, 'both records sent');
    expect(await rows()).toBe(1);
  });

  it('deletes entries older than the retention period and keeps the rest', async () => {
    await db.query('TRUNCATE switchyard.usage');
    const ledger = open({ retentionDays: 35 });
    const now = Date.now();
    ledger.record(entry({ finishedAt: now - 36 * DAY }));
    ledger.record(entry({ finishedAt: now - 34 * DAY }));
    ledger.record(entry({ finishedAt: now }));
    await waitFor(async () => (await rows()) === 3, 10_000, 'entries written');
    expect(await ledger.prune()).toBe(1);
    expect(await rows()).toBe(2);
    expect(() => createLedger({ url: db.url, log, retentionDays: 7 })).toThrow(/at least 32 days/);
  });

  it('writes what is buffered on close', async () => {
    await db.query('TRUNCATE switchyard.usage');
    const ledger = createLedger({ url: db.url, log, flushIntervalMs: 60_000 });
    for (let i = 0; i < 10; i++) ledger.record(entry());
    await ledger.close(5000);
    expect(await rows()).toBe(10);
    ledger.record(entry());
    expect(ledger.stats().dropped.shutdown).toBe(1);
  });
});
