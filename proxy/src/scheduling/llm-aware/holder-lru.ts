/**
 * An LRU-bounded map from keys (prefix block hashes, session keys) to the few holders (endpoints) that last served
 * them, most recent first. Memory is bounded by `maxEntries` keys × `maxHolders` references; every operation is
 * O(1) per key (Map insertion order is the recency order).
 */
export class HolderLru<K, V> {
  private readonly entries = new Map<K, V[]>();

  constructor(
    readonly maxEntries: number,
    readonly maxHolders: number,
  ) {}

  /** Keys held now (never more than `maxEntries`). */
  get size(): number {
    return this.entries.size;
  }

  /** Holders of `key`, most recent first (do not modify). Does not count as a use. */
  holders(key: K): readonly V[] | undefined {
    return this.entries.get(key);
  }

  /**
   * Records that `holder` served `keys`. Keys are touched from last to first, so the first key ends most recent
   * and, in chains, the leading blocks outlive their tails (as in a KV cache's LRU). Evicts the least recent keys
   * beyond `maxEntries`.
   */
  record(keys: readonly K[], holder: V): void {
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i] as K;
      const list = this.entries.get(key);
      if (list) {
        this.entries.delete(key);
        const at = list.indexOf(holder);
        if (at !== 0) {
          if (at > 0) list.splice(at, 1);
          list.unshift(holder);
          if (list.length > this.maxHolders) list.length = this.maxHolders;
        }
        this.entries.set(key, list);
      } else this.entries.set(key, [holder]);
    }
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  /**
   * For a chain of keys (block i's hash covers blocks 0..i), calls `visit(holder, n)` once per holder of the first
   * key with the number of leading keys it holds without a gap. O(keys × maxHolders).
   */
  matchChain(keys: readonly K[], visit: (holder: V, length: number) => void): void {
    const first = keys.length > 0 ? this.entries.get(keys[0] as K) : undefined;
    if (!first) return;
    const alive = [...first];
    let length = 1;
    for (; length < keys.length && alive.length > 0; length++) {
      const list = this.entries.get(keys[length] as K);
      for (let j = alive.length - 1; j >= 0; j--) {
        const h = alive[j] as V;
        if (list?.includes(h)) continue;
        visit(h, length);
        alive.splice(j, 1);
      }
    }
    for (const h of alive) visit(h, length);
  }

  /** Forgets everything. */
  clear(): void {
    this.entries.clear();
  }
}
