/**
 * The usage ledger: every finished request as a row in PostgreSQL, for usage and spend queries, audit, and the
 * budget counters rebuilt after a Redis loss. Writes go through an asynchronous batched writer (writer.ts) on their
 * own connection; queries use a second small pool, so a slow report never delays writes. The proxy starts and serves
 * with the database down: entries are buffered (bounded) and the schema is migrated once it is reachable.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import type { Clock } from '../../../shared/src/clock.js';
import type { LedgerEntry } from './entry.js';
import { LEDGER_SCHEMA, migrate } from './migrations.js';
import { type BudgetScope, budgetUsage, queryUsage, type UsageQuery, type UsageRow } from './query.js';
import { MIN_RETENTION_DAYS, pruneOnce, scheduleRetention } from './retention.js';
import { type LedgerEvents, LedgerWriter, type LedgerWriterStats } from './writer.js';

export type { LedgerEntry } from './entry.js';

export interface LedgerOptions {
  /** postgres://user:password@host:port/db (may carry sslmode and other libpq parameters). */
  url: string;
  log: Logger;
  /** Days entries are kept (default 400; at least MIN_RETENTION_DAYS). */
  retentionDays?: number;
  /** Time between retention rounds (default 1 h). */
  retentionIntervalMs?: number;
  maxBuffer?: number;
  batchSize?: number;
  flushIntervalMs?: number;
  /** Timeout of one statement (default 10 s). */
  statementTimeoutMs?: number;
  events?: LedgerEvents;
  /** Time of the writer's flushes, back-off and close, and of the retention rounds (default: the system clock). */
  clock?: Clock;
}

/** The ledger of this proxy: record finished requests, query usage, read budget sums. */
export interface Ledger {
  record(entry: LedgerEntry): void;
  queryUsage(q: UsageQuery): Promise<UsageRow[]>;
  budgetUsage(scope: BudgetScope): Promise<{ tokens: number; cost: number }>;
  /** Deletes expired entries now (retention also runs on its own every interval). */
  prune(): Promise<number>;
  stats(): LedgerWriterStats;
  /** Writes what is buffered within `timeoutMs`, then closes the connections. */
  close(timeoutMs?: number): Promise<void>;
}

const TABLE = `${LEDGER_SCHEMA}.usage`;

/** Connects the ledger (lazily: nothing here waits for the database). */
export function createLedger(o: LedgerOptions): Ledger {
  const retentionDays = o.retentionDays ?? 400;
  if (!(retentionDays >= MIN_RETENTION_DAYS))
    throw new Error(`ledger retention must be at least ${MIN_RETENTION_DAYS} days (budgets are rebuilt from it)`);
  const timeouts = {
    connectionTimeoutMillis: 3000,
    statement_timeout: o.statementTimeoutMs ?? 10_000,
    query_timeout: (o.statementTimeoutMs ?? 10_000) + 2000,
    idleTimeoutMillis: 30_000,
    application_name: 'switchyard-proxy',
  };
  const writes = new pg.Pool({ connectionString: o.url, max: 1, ...timeouts });
  const reads = new pg.Pool({ connectionString: o.url, max: 2, ...timeouts });
  // Idle connections the server drops (restart, failover) emit here; the next query opens a new one.
  for (const p of [writes, reads]) p.on('error', (e) => o.log.debug({ reason: e.message }, 'ledger connection lost'));

  let migrated: Promise<void> | undefined;
  const prepare = () => {
    migrated ??= migrate(writes).then(
      (applied) => {
        if (applied.length > 0) o.log.info({ applied }, 'usage ledger: schema migrated');
      },
      (e: unknown) => {
        migrated = undefined;
        throw e;
      },
    );
    return migrated;
  };
  const writer = new LedgerWriter({
    db: writes,
    log: o.log,
    table: TABLE,
    prepare,
    ...(o.maxBuffer !== undefined ? { maxBuffer: o.maxBuffer } : {}),
    ...(o.batchSize !== undefined ? { batchSize: o.batchSize } : {}),
    ...(o.flushIntervalMs !== undefined ? { flushIntervalMs: o.flushIntervalMs } : {}),
    ...(o.events ? { events: o.events } : {}),
    ...(o.clock ? { clock: o.clock } : {}),
  });
  const clock = o.clock;
  const retention = {
    db: reads,
    table: TABLE,
    log: o.log,
    retentionDays,
    ...(clock ? { now: () => clock.now() } : {}),
  };
  const stopRetention = scheduleRetention({
    ...retention,
    prepare,
    ...(o.retentionIntervalMs !== undefined ? { intervalMs: o.retentionIntervalMs } : {}),
    ...(o.clock ? { clock: o.clock } : {}),
  });
  return {
    record: (e) => writer.record(e),
    queryUsage: async (q) => {
      await prepare();
      return queryUsage(reads, TABLE, q);
    },
    budgetUsage: async (scope) => {
      await prepare();
      return budgetUsage(reads, TABLE, scope);
    },
    prune: async () => {
      await prepare();
      return pruneOnce(retention);
    },
    stats: () => writer.stats(),
    close: async (timeoutMs = 5000) => {
      await Promise.all([writer.close(timeoutMs), stopRetention()]);
      await Promise.all([writes.end(), reads.end()]);
    },
  };
}
