/** Exponential backoff with jitter, and a token bucket: the two rate limiters of the controller runtime. */

/** Options of an exponential backoff. */
export interface BackoffOptions {
  baseMs?: number;
  maxMs?: number;
  /** Random share added on top (0.2 → up to +20 %). */
  jitter?: number;
}

/** Delay of the n-th consecutive failure (n starts at 0): base·2ⁿ capped at max, plus jitter. */
export function backoffDelay(
  failures: number,
  { baseMs = 100, maxMs = 30_000, jitter = 0 }: BackoffOptions = {},
): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.min(failures, 30));
  return Math.round(exp * (1 + jitter * Math.random()));
}

/** A stateful backoff for one loop: `next()` grows the delay, `reset()` after a success. */
export class Backoff {
  private failures = 0;
  constructor(private readonly opts: BackoffOptions = {}) {}
  next(): number {
    return backoffDelay(this.failures++, this.opts);
  }
  reset(): void {
    this.failures = 0;
  }
}

/**
 * Token bucket of `qps` tokens per second holding at most `burst`. `reserve()` takes one token and returns how
 * long the caller must wait for it (0 when one was available), like client-go's BucketRateLimiter.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    private readonly qps: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }
  reserve(): number {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.qps);
    this.last = t;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.qps) * 1000);
  }
}
