/**
 * The simulated engine's scheduler: a fixed number of running slots, a FCFS waiting queue, admission bounded by
 * free KV blocks (when a prefix cache is configured) and by the number of distinct LoRA adapters in the batch.
 */
import type { KvReservation, PrefixCache } from './kv-cache.js';

/** What a generation request asks of the engine. */
export interface EngineJob {
  promptTokens: number;
  /** Chained block hashes of the prompt (empty without a KV cache). */
  blockHashes: readonly number[];
  /** Tokens the request will generate (all choices). */
  outputTokens: number;
  /** LoRA adapter name, or null for the base model. */
  adapter: string | null;
}

/** A running slot; `release()` must be called exactly once when generation ends (extra calls are ignored). */
export interface Lease {
  readonly slot: number;
  /** Task number, counting from 0 per engine (llama.cpp `id_task`). */
  readonly task: number;
  readonly job: EngineJob;
  /** Prompt tokens found in the prefix cache. */
  readonly cachedTokens: number;
  /** Prefill time for the uncached prompt tokens, ms. */
  readonly prefillMs: number;
  /** Time spent waiting in the queue, ms. */
  readonly queuedMs: number;
  /** Tokens generated so far (for `/slots`). */
  decoded: number;
  release(): void;
}

/** Result of {@link Engine.admit}: `full` when the queue is full, otherwise a lease promise (null if cancelled). */
export type Admission = { full: true } | { full: false; lease: Promise<Lease | null>; cancel(): void };

interface Waiter {
  job: EngineJob;
  since: number;
  cancelled: boolean;
  resolve(lease: Lease | null): void;
}

/** Scheduler limits. */
export interface EngineLimits {
  maxConcurrency: number;
  maxQueue: number;
  maxLoras: number;
  prefillMsPerToken: number;
}

/** One per simulator instance. */
export class Engine {
  running = 0;
  waiting = 0;
  /** Most requests running and waiting at once since start or `resetPeak()`: what a concurrency cap must bound. */
  peak = 0;
  readonly slots: (Lease | null)[];
  /** The last lease each slot ran (its task stays in llama.cpp's `/slots` after it ended); null before the first. */
  readonly lastLeases: (Lease | null)[];
  private tasks = 0;
  private queue: Waiter[] = [];
  private head = 0;
  private readonly freeSlots: number[] = [];
  /** Hook for counters (prefix cache queries/hits), called when a job starts. */
  onStart: ((lease: Lease) => void) | null = null;

  constructor(
    readonly limits: EngineLimits,
    readonly kv: PrefixCache | null,
  ) {
    this.slots = new Array<Lease | null>(limits.maxConcurrency).fill(null);
    this.lastLeases = new Array<Lease | null>(limits.maxConcurrency).fill(null);
    for (let i = limits.maxConcurrency - 1; i >= 0; i--) this.freeSlots.push(i);
  }

  /** Asks for a slot: immediate when one is free and nobody waits, otherwise queued (FCFS). */
  admit(job: EngineJob): Admission {
    if (this.waiting === 0) {
      const lease = this.tryStart(job, performance.now());
      if (lease) return { full: false, lease: Promise.resolve(lease), cancel: () => {} };
    }
    if (this.waiting >= this.limits.maxQueue) return { full: true };
    let waiter: Waiter | undefined;
    const lease = new Promise<Lease | null>((resolve) => {
      waiter = { job, since: performance.now(), cancelled: false, resolve };
    });
    const w = waiter!;
    this.queue.push(w);
    this.waiting++;
    this.notePeak();
    const cancel = () => {
      if (w.cancelled) return;
      w.cancelled = true;
      this.waiting--;
      w.resolve(null);
      this.pump();
    };
    return { full: false, lease, cancel };
  }

  /** Starts the peak over from the requests running and waiting now. */
  resetPeak(): void {
    this.peak = this.running + this.waiting;
  }

  private notePeak(): void {
    if (this.running + this.waiting > this.peak) this.peak = this.running + this.waiting;
  }

  /** Adapters of running and of waiting requests (for `vllm:lora_requests_info`). */
  adapters(): { running: string[]; waiting: string[] } {
    const running = new Set<string>();
    for (const l of this.slots) if (l?.job.adapter) running.add(l.job.adapter);
    const waiting = new Set<string>();
    for (let i = this.head; i < this.queue.length; i++) {
      const w = this.queue[i]!;
      if (!w.cancelled && w.job.adapter) waiting.add(w.job.adapter);
    }
    return { running: [...running], waiting: [...waiting] };
  }

  /** Forgets queued requests (they resolve null) — used when the server is killed. */
  drain(): void {
    for (let i = this.head; i < this.queue.length; i++) {
      const w = this.queue[i]!;
      if (!w.cancelled) {
        w.cancelled = true;
        w.resolve(null);
      }
    }
    this.queue = [];
    this.head = 0;
    this.waiting = 0;
  }

  private tryStart(job: EngineJob, since: number): Lease | null {
    if (this.running >= this.limits.maxConcurrency) return null;
    if (job.adapter && !this.adapterFits(job.adapter)) return null;
    let reservation: KvReservation | null = null;
    if (this.kv) {
      reservation = this.kv.reserve(job.blockHashes, job.promptTokens, job.outputTokens);
      if (!reservation) return null;
    }
    const slot = this.freeSlots.pop()!;
    const cachedTokens = reservation?.hitTokens ?? 0;
    this.running++;
    this.notePeak();
    let released = false;
    const lease: Lease = {
      slot,
      task: this.tasks++,
      job,
      cachedTokens,
      prefillMs: (job.promptTokens - cachedTokens) * this.limits.prefillMsPerToken,
      queuedMs: performance.now() - since,
      decoded: 0,
      release: () => {
        if (released) return;
        released = true;
        this.running--;
        this.slots[slot] = null;
        this.freeSlots.push(slot);
        if (reservation) this.kv?.release(reservation);
        this.pump();
      },
    };
    this.slots[slot] = lease;
    this.lastLeases[slot] = lease;
    this.onStart?.(lease);
    return lease;
  }

  private adapterFits(adapter: string): boolean {
    const distinct = new Set<string>();
    for (const l of this.slots) if (l?.job.adapter) distinct.add(l.job.adapter);
    return distinct.has(adapter) || distinct.size < this.limits.maxLoras;
  }

  private pump(): void {
    while (this.head < this.queue.length) {
      const w = this.queue[this.head]!;
      if (w.cancelled) {
        this.head++;
        continue;
      }
      const lease = this.tryStart(w.job, w.since);
      if (!lease) break;
      this.head++;
      this.waiting--;
      w.resolve(lease);
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
