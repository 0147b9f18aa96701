/**
 * Retention: entries that finished more than `retentionDays` ago are deleted, in batches (short transactions that
 * never hold a lock on the whole table), by one replica at a time (a session advisory lock; the others skip the
 * round). Runs a minute after start and then every `intervalMs`. A failed round (database down) is logged and tried again
 * at the next one.
 */
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { type Clock, systemClock, type Timer } from '../../../shared/src/clock.js';

/** Fewest days kept: a monthly budget must be rebuildable from the ledger until its month ends. */
export const MIN_RETENTION_DAYS = 32;

const RETENTION_LOCK = 0x5377_7962;
const BATCH = 5000;

export interface RetentionOptions {
  db: Pool;
  table: string;
  log: Logger;
  retentionDays: number;
  /** Time between rounds (default 1 h). */
  intervalMs?: number;
  /** Time before the first round (default 1 min). */
  initialDelayMs?: number;
  /** Time the retention period is counted back from, on the clock the entries were stamped on (default Date.now). */
  now?: () => number;
}

/** Deletes expired entries once; returns how many (0 when another replica holds the lock). */
export async function pruneOnce(o: RetentionOptions): Promise<number> {
  const client = await o.db.connect();
  try {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
      RETENTION_LOCK,
    ]);
    if (!rows[0]?.locked) return 0;
    try {
      const cutoff = new Date((o.now ?? Date.now)() - o.retentionDays * 86_400_000).toISOString();
      let total = 0;
      for (;;) {
        const r = await client.query(
          `DELETE FROM ${o.table} WHERE id IN (SELECT id FROM ${o.table} WHERE finished_at < $1 LIMIT ${BATCH})`,
          [cutoff],
        );
        total += r.rowCount ?? 0;
        if ((r.rowCount ?? 0) < BATCH) return total;
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [RETENTION_LOCK]);
    }
  } finally {
    client.release();
  }
}

/**
 * Runs `pruneOnce` after `initialDelayMs` and then every interval, each round after `prepare` (the migrations) succeeded; returns a stop
 * function that waits for a running round.
 */
export function scheduleRetention(
  o: RetentionOptions & { prepare: () => Promise<void>; clock?: Clock },
): () => Promise<void> {
  const clock = o.clock ?? systemClock;
  let running: Promise<void> | undefined;
  const round = () => {
    running ??= o
      .prepare()
      .then(() => pruneOnce(o))
      .then(
        (n) => {
          if (n > 0)
            o.log.info({ deleted: n, retentionDays: o.retentionDays }, 'usage ledger: expired entries deleted');
        },
        (e: unknown) =>
          o.log.warn({ reason: e instanceof Error ? e.message : String(e) }, 'usage ledger: retention round failed'),
      )
      .finally(() => {
        running = undefined;
      });
  };
  let timer: Timer = clock.after(o.initialDelayMs ?? 60_000, next, { unref: true });
  function next() {
    round();
    timer = clock.after(o.intervalMs ?? 3_600_000, next, { unref: true });
  }
  return async () => {
    timer.cancel();
    await running;
  };
}
