/**
 * A fake clock for tests: time stands still until the test advances it, and timers due on the way fire in time
 * order, each at its own instant, with pending promise callbacks run in between (so code that awaits in-memory
 * fakes sees the same interleaving as with real time). Real I/O is not waited for: a test that involves sockets
 * advances the clock for what is time-driven (a backoff, a period) and waits for a positive signal for the rest.
 */
import type { Clock, Timer, TimerOptions } from '../../shared/src/clock.js';

interface Scheduled {
  at: number;
  seq: number;
  fn: () => void;
  /** Period of a repeating timer. */
  every?: number;
}

/** Lets every pending promise callback run (all microtasks, then one turn of the event loop). */
export const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class FakeClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly timers = new Set<Scheduled>();

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  after(ms: number, fn: () => void, _opts?: TimerOptions): Timer {
    return this.schedule({ at: this.time + Math.max(0, ms), seq: this.seq++, fn });
  }

  every(ms: number, fn: () => void, _opts?: TimerOptions): Timer {
    if (!(ms > 0)) throw new Error(`FakeClock.every needs a positive period (got ${ms})`);
    return this.schedule({ at: this.time + ms, seq: this.seq++, fn, every: ms });
  }

  /** Number of timers waiting. */
  get pending(): number {
    return this.timers.size;
  }

  /** Time until the next timer fires; undefined when none waits. */
  nextIn(): number | undefined {
    const next = this.next(Number.POSITIVE_INFINITY);
    return next && next.at - this.time;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way at its own instant, in order (a timer
   * scheduled by one that fires runs too when it falls due within the span), settling promises after each.
   */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    await settle();
    for (let t = this.next(end); t; t = this.next(end)) {
      this.time = t.at;
      if (t.every) t.at += t.every;
      else this.timers.delete(t);
      t.fn();
      await settle();
    }
    this.time = end;
    await settle();
  }

  /**
   * Advances in steps of `stepMs` until `cond` holds; returns the time that passed. Throws when it does not hold
   * within `maxMs` of clock time (the message says what was awaited).
   */
  async advanceUntil(cond: () => boolean, stepMs: number, maxMs: number, what = 'condition'): Promise<number> {
    const start = this.time;
    await settle();
    while (!cond()) {
      if (this.time - start >= maxMs) throw new Error(`${what} did not hold within ${maxMs} ms of clock time`);
      await this.advance(stepMs);
    }
    return this.time - start;
  }

  private schedule(s: Scheduled): Timer {
    this.timers.add(s);
    return { cancel: () => this.timers.delete(s) };
  }

  private next(until: number): Scheduled | undefined {
    let best: Scheduled | undefined;
    for (const t of this.timers) {
      if (t.at > until) continue;
      if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  }
}
