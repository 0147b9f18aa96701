/**
 * A binary min-heap of objects that know their own position (`heapIndex`, -1 when outside), so any member can be
 * removed or re-keyed in O(log n). The order comes from `less(a, b)`; a caller that changes what `less` reads of a
 * member must call `update` on it.
 */
export interface HeapMember {
  heapIndex: number;
}

export class PositionedHeap<T extends HeapMember> {
  private readonly items: T[] = [];

  constructor(private readonly less: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  /** The smallest member, if any. */
  peek(): T | undefined {
    return this.items[0];
  }

  /** Every member, in no particular order. */
  values(): readonly T[] {
    return this.items;
  }

  push(x: T): void {
    if (x.heapIndex >= 0) {
      this.update(x);
      return;
    }
    x.heapIndex = this.items.length;
    this.items.push(x);
    this.up(x.heapIndex);
  }

  remove(x: T): void {
    const p = x.heapIndex;
    if (p < 0) return;
    const last = this.items.pop() as T;
    x.heapIndex = -1;
    if (p === this.items.length) return;
    this.items[p] = last;
    last.heapIndex = p;
    this.down(this.up(p));
  }

  /** Restores the order after what `less` reads of `x` changed. */
  update(x: T): void {
    if (x.heapIndex >= 0) this.down(this.up(x.heapIndex));
  }

  private up(p: number): number {
    const items = this.items;
    const x = items[p] as T;
    while (p > 0) {
      const parent = (p - 1) >> 1;
      const y = items[parent] as T;
      if (!this.less(x, y)) break;
      items[p] = y;
      y.heapIndex = p;
      p = parent;
    }
    items[p] = x;
    x.heapIndex = p;
    return p;
  }

  private down(p: number): void {
    const items = this.items;
    const n = items.length;
    const x = items[p] as T;
    for (;;) {
      let child = 2 * p + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && this.less(items[right] as T, items[child] as T)) child = right;
      const c = items[child] as T;
      if (!this.less(c, x)) break;
      items[p] = c;
      c.heapIndex = p;
      p = child;
    }
    items[p] = x;
    x.heapIndex = p;
  }
}
