/**
 * An LRU-bounded map from keys (prefix block hashes, session keys) to the few holders (endpoints) that last served
 * them, most recent first. Memory is bounded: at most `maxEntries` keys, each with at most `maxHolders` holders,
 * in slots allocated once. Recency is a doubly linked list over slot indices, so a touch is O(1) and never deletes
 * from the Map (deleting from the front of a JS Map leaves holes that make later scans slow).
 */
export class HolderLru<K, V> {
  private readonly slotOf = new Map<K, number>();
  private readonly keys: Array<K | undefined>;
  private readonly lists: V[][];
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  /** Most and least recently used slots, -1 when empty. */
  private head = -1;
  private tail = -1;

  constructor(
    readonly maxEntries: number,
    readonly maxHolders: number,
  ) {
    this.keys = [];
    this.lists = [];
    this.prev = new Int32Array(maxEntries);
    this.next = new Int32Array(maxEntries);
  }

  /** Keys held now (never more than `maxEntries`). */
  get size(): number {
    return this.slotOf.size;
  }

  /** Holders of `key`, most recent first (do not modify). Does not count as a use. */
  holders(key: K): readonly V[] | undefined {
    const slot = this.slotOf.get(key);
    return slot === undefined ? undefined : this.lists[slot];
  }

  /**
   * Records that `holder` served `keys`. Keys are touched from last to first, so the first key ends most recent
   * and, in chains, the leading blocks outlive their tails (as in a KV cache's LRU). When full, the least recently
   * used key's slot is reused.
   */
  record(keys: readonly K[], holder: V): void {
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i] as K;
      let slot = this.slotOf.get(key);
      if (slot === undefined) {
        slot = this.allocate(key);
        this.lists[slot] = [holder];
        this.pushFront(slot);
        continue;
      }
      const list = this.lists[slot] as V[];
      const at = list.indexOf(holder);
      if (at !== 0) {
        if (at > 0) list.splice(at, 1);
        list.unshift(holder);
        if (list.length > this.maxHolders) list.length = this.maxHolders;
      }
      if (slot !== this.head) {
        this.unlink(slot);
        this.pushFront(slot);
      }
    }
  }

  /**
   * For a chain of keys (key i stands for everything up to block i), calls `visit(holder, n)` once per holder of
   * the first key with the number of leading keys it holds without a gap. O(keys × maxHolders).
   */
  matchChain(keys: readonly K[], visit: (holder: V, length: number) => void): void {
    const first = keys.length > 0 ? this.holders(keys[0] as K) : undefined;
    if (!first) return;
    const alive = [...first];
    let length = 1;
    for (; length < keys.length && alive.length > 0; length++) {
      const list = this.holders(keys[length] as K);
      for (let j = alive.length - 1; j >= 0; j--) {
        const h = alive[j] as V;
        if (list?.includes(h)) continue;
        visit(h, length);
        alive.splice(j, 1);
      }
    }
    for (const h of alive) visit(h, length);
  }

  /** A free slot for `key`: a new one while below `maxEntries`, else the least recently used one's. */
  private allocate(key: K): number {
    let slot: number;
    if (this.slotOf.size < this.maxEntries) slot = this.slotOf.size;
    else {
      slot = this.tail;
      this.unlink(slot);
      this.slotOf.delete(this.keys[slot] as K);
    }
    this.keys[slot] = key;
    this.slotOf.set(key, slot);
    return slot;
  }

  private pushFront(slot: number): void {
    this.prev[slot] = -1;
    this.next[slot] = this.head;
    if (this.head >= 0) this.prev[this.head] = slot;
    this.head = slot;
    if (this.tail < 0) this.tail = slot;
  }

  private unlink(slot: number): void {
    const p = this.prev[slot] as number;
    const n = this.next[slot] as number;
    if (p >= 0) this.next[p] = n;
    else this.head = n;
    if (n >= 0) this.prev[n] = p;
    else this.tail = p;
  }
}
