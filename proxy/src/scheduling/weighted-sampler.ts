/**
 * Weighted sampling over a changing set: a Fenwick (binary indexed) tree of weights, so setting a weight and
 * drawing a member in proportion to its weight both cost O(log n). Integer weights keep the sums exact.
 */
export class WeightedSampler {
  private readonly tree: Float64Array;
  private readonly weights: Float64Array;
  private readonly topStep: number;
  private sum = 0;

  constructor(readonly size: number) {
    this.tree = new Float64Array(size + 1);
    this.weights = new Float64Array(size);
    let step = 1;
    while (step * 2 <= size) step *= 2;
    this.topStep = size > 0 ? step : 0;
  }

  /** Sum of all weights. */
  get total(): number {
    return this.sum;
  }

  weight(i: number): number {
    return this.weights[i] as number;
  }

  set(i: number, w: number): void {
    const delta = w - (this.weights[i] as number);
    if (delta === 0) return;
    this.weights[i] = w;
    this.sum += delta;
    for (let j = i + 1; j <= this.size; j += j & -j) this.tree[j] = (this.tree[j] as number) + delta;
  }

  /** A member drawn with probability weight/total using `u` in [0, 1); -1 when every weight is 0. */
  sample(u: number): number {
    if (this.sum <= 0) return -1;
    let r = u * this.sum;
    let pos = 0;
    for (let step = this.topStep; step > 0; step >>= 1) {
      const next = pos + step;
      if (next <= this.size && (this.tree[next] as number) <= r) {
        pos = next;
        r -= this.tree[next] as number;
      }
    }
    // pos is the first member whose prefix sum exceeds r; rounding can only push it past the end.
    if (pos >= this.size || (this.weights[pos] as number) <= 0) return this.lastPositive();
    return pos;
  }

  private lastPositive(): number {
    for (let i = this.size - 1; i >= 0; i--) if ((this.weights[i] as number) > 0) return i;
    return -1;
  }
}
