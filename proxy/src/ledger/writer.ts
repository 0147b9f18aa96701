/**
 * The ledger's asynchronous batched writer. `record()` is synchronous and O(1): it appends to a bounded in-memory
 * buffer and returns, so a request never waits for the database. A timer drains the buffer every flush interval in
 * batches (one INSERT each). While the database is unreachable the buffer is kept and retried with exponential
 * back-off; once it is full, new entries are dropped and counted (`onDropped('buffer_full')`). A batch the database
 * refuses for its data (not for its availability) is dropped and counted (`rejected`) rather than retried forever.
 * Entries carry their own id and the insert ignores ids already stored, so a batch whose commit was lost with the
 * connection is not written twice when retried.
 */
import type { Logger } from 'pino';
import { type Clock, systemClock, type Timer } from '../../../shared/src/clock.js';
import { insertStatement, type LedgerEntry } from './entry.js';

/** What the writer needs of a database client (pg.Pool has it). */
export interface Queryable {
  query(statement: { text: string; values: unknown[] }): Promise<unknown>;
}

export type DropReason = 'buffer_full' | 'rejected' | 'shutdown';

/** Observers for metrics; none may throw. */
export interface LedgerEvents {
  onWritten?(entries: number, durationMs: number): void;
  onDropped?(entries: number, reason: DropReason): void;
  /** The database became reachable (true) or stopped being so (false). */
  onState?(up: boolean): void;
}

export interface LedgerWriterOptions {
  db: Queryable;
  log: Logger;
  /** Qualified table name. */
  table: string;
  /** Run before the first write and again after the schema went missing (migrations). */
  prepare: () => Promise<void>;
  /** Entries held while the database is slow or down (default 10,000); more are dropped. */
  maxBuffer?: number;
  /** Entries per INSERT (default 500). */
  batchSize?: number;
  /** How long an entry waits for its batch (default 1000 ms). */
  flushIntervalMs?: number;
  /** Longest pause between retries while the database is down (default 10 s). */
  maxBackoffMs?: number;
  events?: LedgerEvents;
  /** Time of the flush interval, the back-off and the close timeout (default: the system clock). */
  clock?: Clock;
}

export interface LedgerWriterStats {
  up: boolean | undefined;
  buffered: number;
  written: number;
  dropped: Record<DropReason, number>;
}

/** SQLSTATE classes that mean "the database cannot take it now", not "this data is wrong". */
const TRANSIENT_SQLSTATE = /^(08|40|53|57|58|55P03|XX)/;
/** The schema or table is missing (a database recreated under us): run the migrations again. */
const MISSING_SCHEMA = new Set(['3F000', '42P01']);

function sqlState(e: unknown): string | undefined {
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Buffers ledger entries and writes them in batches, off every request's path. */
export class LedgerWriter {
  private buffer: LedgerEntry[] = [];
  private timer: Timer | undefined;
  private cycle: Promise<void> | undefined;
  private prepared = false;
  private failures = 0;
  private closed = false;
  private state: boolean | undefined;
  private written = 0;
  private readonly dropped: Record<DropReason, number> = { buffer_full: 0, rejected: 0, shutdown: 0 };
  private readonly maxBuffer: number;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly maxBackoffMs: number;
  private readonly clock: Clock;

  constructor(private readonly o: LedgerWriterOptions) {
    this.clock = o.clock ?? systemClock;
    this.maxBuffer = o.maxBuffer ?? 10_000;
    this.batchSize = Math.max(1, o.batchSize ?? 500);
    this.flushIntervalMs = o.flushIntervalMs ?? 1000;
    this.maxBackoffMs = o.maxBackoffMs ?? 10_000;
  }

  /** Queues `entry` for writing; never blocks or throws. */
  record(entry: LedgerEntry): void {
    if (this.closed) this.drop(1, 'shutdown');
    else if (this.buffer.length >= this.maxBuffer) this.drop(1, 'buffer_full');
    else this.push(entry);
  }

  private push(entry: LedgerEntry): void {
    this.buffer.push(entry);
    this.schedule(this.flushIntervalMs);
  }

  stats(): LedgerWriterStats {
    return { up: this.state, buffered: this.buffer.length, written: this.written, dropped: { ...this.dropped } };
  }

  /** Writes what it can within `timeoutMs`, then drops (and counts) the rest. Idempotent. */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.timer?.cancel();
    this.timer = undefined;
    const deadline = this.clock.now() + timeoutMs;
    const drain = async () => {
      await this.cycle;
      while (this.buffer.length > 0 && this.clock.now() < deadline && (await this.flushBatch()) === 'ok') {}
    };
    let timer: Timer | undefined;
    await Promise.race([drain(), new Promise<void>((r) => (timer = this.clock.after(timeoutMs, r)))]);
    timer?.cancel();
    const left = this.buffer.length;
    this.buffer = [];
    if (left > 0) this.drop(left, 'shutdown');
  }

  private drop(n: number, reason: DropReason): void {
    this.dropped[reason] += n;
    try {
      this.o.events?.onDropped?.(n, reason);
    } catch {
      // observers must not break the writer
    }
  }

  private setState(up: boolean, err?: unknown): void {
    if (this.state === up) return;
    this.state = up;
    if (up) this.o.log.info('usage ledger: database reachable');
    else
      this.o.log.warn(
        { reason: err instanceof Error ? err.message : String(err), buffered: this.buffer.length },
        'usage ledger: database unreachable, buffering entries until it is back',
      );
    try {
      this.o.events?.onState?.(up);
    } catch {
      // observers must not break the writer
    }
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.cycle || this.closed) return;
    this.timer = this.clock.after(
      delayMs,
      () => {
        this.timer = undefined;
        this.cycle = this.drainBuffer().finally(() => {
          this.cycle = undefined;
          if (this.buffer.length > 0) this.schedule(this.failures > 0 ? this.backoffMs() : this.flushIntervalMs);
        });
      },
      { unref: true },
    );
  }

  private backoffMs(): number {
    return Math.min(this.maxBackoffMs, this.flushIntervalMs * 2 ** Math.min(this.failures - 1, 16));
  }

  /** Writes batches until the buffer is empty or the database fails. */
  private async drainBuffer(): Promise<void> {
    while (this.buffer.length > 0 && !this.closed) {
      if ((await this.flushBatch()) === 'failed') return;
    }
  }

  /** Writes the oldest batch: 'ok' (written or dropped as rejected) or 'failed' (kept for a retry). */
  private async flushBatch(): Promise<'ok' | 'failed'> {
    const batch = this.buffer.slice(0, this.batchSize);
    const started = this.clock.now();
    try {
      if (!this.prepared) {
        await this.o.prepare();
        this.prepared = true;
      }
      await this.o.db.query(insertStatement(this.o.table, batch));
    } catch (e) {
      const code = sqlState(e);
      if (code !== undefined && MISSING_SCHEMA.has(code)) this.prepared = false;
      else if (code !== undefined && !TRANSIENT_SQLSTATE.test(code)) {
        this.buffer.splice(0, batch.length);
        this.o.log.error({ sqlState: code, entries: batch.length }, 'usage ledger: database refused a batch');
        this.drop(batch.length, 'rejected');
        return 'ok';
      }
      this.failures++;
      this.setState(false, e);
      return 'failed';
    }
    this.buffer.splice(0, batch.length);
    this.failures = 0;
    this.written += batch.length;
    this.setState(true);
    try {
      this.o.events?.onWritten?.(batch.length, this.clock.now() - started);
    } catch {
      // observers must not break the writer
    }
    return 'ok';
  }
}
