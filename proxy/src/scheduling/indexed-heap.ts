/**
 * A binary min-heap over the integers 0..capacity-1 with O(log n) push, remove and re-key of any member (it
 * knows where each one sits). The order comes from `less(a, b)`, which reads the caller's key arrays, so a
 * caller that changes a key must call `update(i)`.
 */
export class IndexedHeap {
  private readonly items: number[] = [];
  private readonly pos: Int32Array;

  constructor(
    capacity: number,
    private readonly less: (a: number, b: number) => boolean,
  ) {
    this.pos = new Int32Array(capacity).fill(-1);
  }

  get size(): number {
    return this.items.length;
  }

  /** The smallest member, or -1 when empty. */
  peek(): number {
    return this.items.length > 0 ? (this.items[0] as number) : -1;
  }

  has(i: number): boolean {
    return (this.pos[i] as number) >= 0;
  }

  push(i: number): void {
    if (this.has(i)) {
      this.update(i);
      return;
    }
    this.pos[i] = this.items.length;
    this.items.push(i);
    this.up(this.items.length - 1);
  }

  remove(i: number): void {
    const p = this.pos[i] as number;
    if (p < 0) return;
    const last = this.items.pop() as number;
    this.pos[i] = -1;
    if (p === this.items.length) return;
    this.items[p] = last;
    this.pos[last] = p;
    this.down(this.up(p));
  }

  /** Restores the order after the key of `i` changed. */
  update(i: number): void {
    const p = this.pos[i] as number;
    if (p >= 0) this.down(this.up(p));
  }

  private up(p: number): number {
    const items = this.items;
    const x = items[p] as number;
    while (p > 0) {
      const parent = (p - 1) >> 1;
      const y = items[parent] as number;
      if (!this.less(x, y)) break;
      items[p] = y;
      this.pos[y] = p;
      p = parent;
    }
    items[p] = x;
    this.pos[x] = p;
    return p;
  }

  private down(p: number): void {
    const items = this.items;
    const n = items.length;
    const x = items[p] as number;
    for (;;) {
      let child = 2 * p + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && this.less(items[right] as number, items[child] as number)) child = right;
      const c = items[child] as number;
      if (!this.less(c, x)) break;
      items[p] = c;
      this.pos[c] = p;
      p = child;
    }
    items[p] = x;
    this.pos[x] = p;
  }
}
