/**
 * Time as code that waits sees it, injectable: `systemClock` in production, a fake clock in tests
 * (test/support/clock.ts), so a test drives deadlines, backoffs and periods instead of waiting for them.
 */

/** A scheduled call; cancel() is idempotent. */
export interface Timer {
  cancel(): void;
}

/** Options of a timer. */
export interface TimerOptions {
  /** The timer does not keep the process alive (Node's unref). */
  unref?: boolean;
}

/**
 * The clock: the current time and timers measured on it. It has no monotonic reading: durations that are only
 * measured, never waited for (latency, overhead, time to first byte), use performance.now() and stay off it.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once, `ms` from now. */
  after(ms: number, fn: () => void, opts?: TimerOptions): Timer;
  /** Calls `fn` every `ms` until cancelled. */
  every(ms: number, fn: () => void, opts?: TimerOptions): Timer;
}

/** The process clock: Date.now() and Node timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  after(ms, fn, opts) {
    const t = setTimeout(fn, Math.max(0, ms));
    if (opts?.unref) t.unref();
    return { cancel: () => clearTimeout(t) };
  },
  every(ms, fn, opts) {
    const t = setInterval(fn, ms);
    if (opts?.unref) t.unref();
    return { cancel: () => clearInterval(t) };
  },
};

/** Resolves after `ms` on `clock`, or early (without throwing) when the signal aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = clock.after(ms, done);
    function done() {
      timer.cancel();
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
