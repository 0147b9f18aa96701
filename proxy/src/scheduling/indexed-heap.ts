/**
 * A binary min-heap over the integers 0..capacity-1 with O(log n) push, remove and re-key of any member (it
 * knows where each one sits). The order comes from `less(a, b)`, which reads the caller's key arrays, so a
 * caller that changes a key must call `update(i)`.
 */
import { PositionedHeap } from './positioned-heap.js';

export class IndexedHeap extends PositionedHeap<number> {
  private readonly at: Int32Array;

  constructor(capacity: number, less: (a: number, b: number) => boolean) {
    const at = new Int32Array(capacity).fill(-1);
    super(less, {
      get: (i) => at[i] as number,
      set: (i, p) => {
        at[i] = p;
      },
    });
    this.at = at;
  }

  /** The smallest member, or -1 when empty. */
  override peek(): number {
    return super.peek() ?? -1;
  }

  has(i: number): boolean {
    return (this.at[i] as number) >= 0;
  }
}
