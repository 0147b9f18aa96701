/**
 * A binary min-heap whose members' positions are kept by the caller's `Positions` (a field on the member, a typed
 * array by index), so any member can be removed or re-keyed in O(log n). The order comes from `less(a, b)`; a
 * caller that changes what `less` reads of a member must call `update` on it.
 */
export interface Positions<T> {
  /** Where `x` sits in the heap; -1 when outside. */
  get(x: T): number;
  set(x: T, position: number): void;
}

/** Positions kept on the members themselves. */
export interface HeapMember {
  heapIndex: number;
}

/** The positions of `HeapMember`s (start them at -1). */
export const ON_MEMBER: Positions<HeapMember> = {
  get: (x) => x.heapIndex,
  set: (x, p) => {
    x.heapIndex = p;
  },
};

export class PositionedHeap<T> {
  private readonly items: T[] = [];

  constructor(
    private readonly less: (a: T, b: T) => boolean,
    private readonly pos: Positions<T>,
  ) {}

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

  /** Adds `x`, or restores the order if it is in already. */
  push(x: T): void {
    if (this.pos.get(x) >= 0) {
      this.update(x);
      return;
    }
    this.pos.set(x, this.items.length);
    this.items.push(x);
    this.up(this.items.length - 1);
  }

  remove(x: T): void {
    const p = this.pos.get(x);
    if (p < 0) return;
    const last = this.items.pop() as T;
    this.pos.set(x, -1);
    if (p === this.items.length) return;
    this.items[p] = last;
    this.pos.set(last, p);
    this.down(this.up(p));
  }

  /** Restores the order after what `less` reads of `x` changed. */
  update(x: T): void {
    const p = this.pos.get(x);
    if (p >= 0) this.down(this.up(p));
  }

  private up(p: number): number {
    const items = this.items;
    const x = items[p] as T;
    while (p > 0) {
      const parent = (p - 1) >> 1;
      const y = items[parent] as T;
      if (!this.less(x, y)) break;
      items[p] = y;
      this.pos.set(y, p);
      p = parent;
    }
    items[p] = x;
    this.pos.set(x, p);
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
      this.pos.set(c, p);
      p = child;
    }
    items[p] = x;
    this.pos.set(x, p);
  }
}
