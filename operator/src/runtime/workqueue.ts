/**
 * A work queue of string keys with client-go semantics: a key is queued at most once (dirty set), is never
 * processed by two workers at once (a key added while processing is re-queued when done), failed keys come back
 * after a per-key exponential backoff, and all rate-limited re-adds share an overall token bucket.
 */
import { type Clock, systemClock, type Timer } from '../../../shared/src/index.js';
import { type BackoffOptions, backoffDelay, TokenBucket } from './backoff.js';

/** Options of a work queue. */
export interface WorkQueueOptions {
  backoff?: BackoffOptions;
  /** Overall rate limit of rate-limited adds (default 10 qps, burst 100, as client-go). */
  qps?: number;
  burst?: number;
  /** Called whenever the number of queued keys changes (metrics). */
  onDepth?: (depth: number) => void;
  /**
   * Called when a key is handed to a worker, with the time since it was added (metrics). A key added again while
   * queued or being processed keeps its first add time, as client-go's queue_duration_seconds; the delay of
   * addAfter()/addRateLimited() is not counted (the key is added when it ends).
   */
  onWait?: (key: string, seconds: number) => void;
  /** Clock of delays, the rate limit and wait times (default: the system clock). */
  clock?: Clock;
}

/** Processes one key; throwing requeues it with backoff. */
export type KeyHandler = (key: string) => Promise<void>;

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  /** When each key not yet handed out was (first) added, in clock ms. */
  private readonly addedAt = new Map<string, number>();
  private readonly timers = new Set<Timer>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private readonly bucket: TokenBucket;
  private readonly clock: Clock;
  private shuttingDown = false;

  constructor(private readonly opts: WorkQueueOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.bucket = new TokenBucket(opts.qps ?? 10, opts.burst ?? 100, () => this.clock.now());
  }

  /** Number of keys waiting (not counting those being processed). */
  get length(): number {
    return this.queue.length;
  }

  /** Queues a key unless it is already queued. */
  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (!this.addedAt.has(key)) this.addedAt.set(key, this.clock.now());
    if (this.processing.has(key)) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      this.dirty.delete(key);
      this.processing.add(key);
      this.handedOut(key);
      waiter(key);
      return;
    }
    this.queue.push(key);
    this.opts.onDepth?.(this.queue.length);
  }

  /** Queues a key after a delay. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const timer = this.clock.after(ms, () => {
      this.timers.delete(timer);
      this.add(key);
    });
    this.timers.add(timer);
  }

  /** Queues a key after its backoff (grows with each consecutive failure) or the overall rate limit, whichever is longer. */
  addRateLimited(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const delay = Math.max(backoffDelay(n, { baseMs: 5, maxMs: 60_000, ...this.opts.backoff }), this.bucket.reserve());
    this.addAfter(key, delay);
    return delay;
  }

  /** Consecutive failures recorded for a key. */
  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Clears a key's failure history (after it was processed successfully). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** Waits for the next key; undefined once shut down. The caller must call done(key) afterwards. */
  get(): Promise<string | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      this.opts.onDepth?.(this.queue.length);
      this.handedOut(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private handedOut(key: string): void {
    const added = this.addedAt.get(key);
    this.addedAt.delete(key);
    if (added !== undefined) this.opts.onWait?.(key, (this.clock.now() - added) / 1000);
  }

  /** Marks a key as processed; re-queues it when it was added meanwhile. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.dirty.delete(key);
      this.add(key);
    }
  }

  /** Stops handing out keys; pending get() calls resolve with undefined. */
  shutDown(): void {
    this.shuttingDown = true;
    for (const t of this.timers) t.cancel();
    this.timers.clear();
    this.addedAt.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
  }

  /** Runs `workers` loops that process keys until shut down: success forgets the key, a throw requeues it. */
  async run(handler: KeyHandler, workers = 1, onError?: (key: string, err: unknown) => void): Promise<void> {
    const loop = async () => {
      for (let key = await this.get(); key !== undefined; key = await this.get()) {
        try {
          await handler(key);
          this.forget(key);
        } catch (err) {
          onError?.(key, err);
          this.addRateLimited(key);
        } finally {
          this.done(key);
        }
      }
    };
    await Promise.all(Array.from({ length: workers }, loop));
  }
}
