/**
 * A pool of bytes shared by requests: the request bodies buffered at once by callers that presented no valid API
 * key. Whatever such callers send, they can make the proxy hold at most `capacity` bytes of bodies in total.
 */
export class ByteBudget {
  private used = 0;

  constructor(readonly capacity: number) {}

  /** Takes `n` bytes; false, taking nothing, when that would go above the capacity. */
  take(n: number): boolean {
    if (this.used + n > this.capacity) return false;
    this.used += n;
    return true;
  }

  /** Returns `n` bytes taken earlier. */
  give(n: number): void {
    this.used = Math.max(0, this.used - n);
  }

  /** Bytes taken now. */
  get inUse(): number {
    return this.used;
  }
}
