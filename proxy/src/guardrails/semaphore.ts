/**
 * A counting semaphore with a bounded FIFO of waiters, so a slow dependency can hold at most `limit` calls and
 * `maxWaiting` more waiting for one. A waiter gives up at its deadline (on the given clock) or when its signal aborts.
 */
import { type Clock, systemClock, type Timer } from '../../../shared/src/clock.js';

export class Semaphore {
  private active = 0;
  private readonly waiters: Array<(granted: boolean) => void> = [];

  constructor(
    readonly limit: number,
    readonly maxWaiting: number,
    private readonly clock: Clock = systemClock,
  ) {}

  get inFlight(): number {
    return this.active;
  }

  /** A release function once a slot is free; undefined when the queue is full, the wait timed out or aborted. */
  async acquire(timeoutMs: number, signal?: AbortSignal): Promise<(() => void) | undefined> {
    if (this.active < this.limit) {
      this.active++;
      return this.releaser();
    }
    if (this.waiters.length >= this.maxWaiting || signal?.aborted) return undefined;
    const granted = await new Promise<boolean>((resolve) => {
      let timer: Timer | undefined;
      const done = (ok: boolean) => {
        timer?.cancel();
        signal?.removeEventListener('abort', onAbort);
        const i = this.waiters.indexOf(done);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(ok);
      };
      const onAbort = () => done(false);
      timer = this.clock.after(timeoutMs, () => done(false));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(done);
    });
    return granted ? this.releaser() : undefined;
  }

  /** Releases a held slot: handed to the longest waiter as it is (no newcomer can take it between), else freed. */
  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters[0];
      if (next) next(true);
      else this.active--;
    };
  }
}
