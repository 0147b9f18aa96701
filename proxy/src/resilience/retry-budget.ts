/**
 * Retry budget (Finagle's RetryBudget, Envoy's retry_budget): retries may be at most `ratio` of the requests
 * seen over a sliding 10-second window, plus `minPerSecond` retries that are always allowed each second. During
 * an outage where every attempt fails, upstream attempts stay near requests × (1 + ratio) instead of
 * requests × attempts.
 */

const WINDOW_SECONDS = 10;

export interface RetryBudgetConfig {
  ratio: number;
  minPerSecond: number;
}

export class RetryBudget {
  private readonly requests = new Float64Array(WINDOW_SECONDS);
  private readonly retries = new Float64Array(WINDOW_SECONDS);
  private second = 0;
  private retriesThisSecond = 0;

  constructor(public config: RetryBudgetConfig) {}

  /** A new request (first attempt) arrived. */
  recordRequest(now: number): void {
    this.advance(now);
    const slot = this.second % WINDOW_SECONDS;
    this.requests[slot] = (this.requests[slot] as number) + 1;
  }

  /** Whether one more retry is allowed now; when it is, it is counted. */
  tryRetry(now: number): boolean {
    this.advance(now);
    let requests = 0;
    let retries = 0;
    for (let i = 0; i < WINDOW_SECONDS; i++) {
      requests += this.requests[i] as number;
      retries += this.retries[i] as number;
    }
    const allowed = this.retriesThisSecond < this.config.minPerSecond || retries < this.config.ratio * requests;
    if (!allowed) return false;
    const slot = this.second % WINDOW_SECONDS;
    this.retries[slot] = (this.retries[slot] as number) + 1;
    this.retriesThisSecond++;
    return true;
  }

  private advance(now: number): void {
    const second = Math.floor(now / 1000);
    if (second === this.second) return;
    const gap = Math.min(second - this.second, WINDOW_SECONDS);
    for (let k = 1; k <= gap; k++) {
      const slot = (this.second + k) % WINDOW_SECONDS;
      this.requests[slot] = 0;
      this.retries[slot] = 0;
    }
    this.second = second;
    this.retriesThisSecond = 0;
  }
}

/** The retry budgets of one proxy, per pool id (kept across snapshots, so a config push does not refill them). */
export class RetryBudgets {
  private readonly byPool = new Map<string, RetryBudget>();

  /** The budget of `poolId`, with the config of the current snapshot. */
  for(poolId: string, config: RetryBudgetConfig): RetryBudget {
    let b = this.byPool.get(poolId);
    if (!b) {
      b = new RetryBudget(config);
      this.byPool.set(poolId, b);
    } else b.config = config;
    return b;
  }
}
