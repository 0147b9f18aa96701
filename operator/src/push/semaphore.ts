/** A counting semaphore for async work: at most `limit` holders at once, waiters served in arrival order. */
export class Semaphore {
  private held = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  /** Resolves with the release function once a slot is free; call it exactly once. */
  async acquire(): Promise<() => void> {
    if (this.held >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    else this.held++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.held--;
    };
  }

  /** Holders now (for tests). */
  get inUse(): number {
    return this.held;
  }
}
