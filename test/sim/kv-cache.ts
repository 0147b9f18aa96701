/**
 * Block-level prefix KV cache in the manner of vLLM's: prompts are cut into fixed blocks identified by chained hashes;
 * full prompt blocks are shared between requests and kept after a request ends, until evicted least-recently-used.
 * Capacity is `totalBlocks`: blocks held by running requests plus evictable cached blocks never exceed it.
 *
 * Simplification: a request reserves all blocks for prompt + planned output when it is admitted (vLLM allocates
 * decode blocks incrementally and preempts); generated blocks are not cached.
 */

interface Block {
  hash: number;
  refs: number;
}

/** Blocks a running request holds; give it back to {@link PrefixCache.release}. */
export interface KvReservation {
  shared: Block[];
  privateBlocks: number;
  /** Prompt tokens found in the cache (a consecutive prefix, never the whole prompt). */
  hitTokens: number;
  released: boolean;
}

/** The prefix cache; one per simulator instance. */
export class PrefixCache {
  /** Every cached prompt block, held or evictable. */
  private readonly blocks = new Map<number, Block>();
  /** Evictable blocks (refs 0) in LRU order: first = least recently used. */
  private readonly free = new Map<number, Block>();
  /** Blocks held by running requests (shared blocks counted once). */
  held = 0;

  constructor(
    readonly totalBlocks: number,
    readonly blockSize: number,
  ) {}

  /** Evictable cached blocks. */
  get cached(): number {
    return this.free.size;
  }

  /** Share of blocks held by running requests, 0..1 (vLLM's `kv_cache_usage_perc`). */
  usage(): number {
    return this.held / this.totalBlocks;
  }

  /** Blocks needed for `tokens` tokens. */
  blocksFor(tokens: number): number {
    return Math.ceil(tokens / this.blockSize);
  }

  /**
   * Reserves blocks for a prompt of `promptTokens` (full-block chain hashes in `hashes`) plus `outputTokens`.
   * Returns null when the free blocks (after evicting every evictable block) would not suffice.
   */
  reserve(hashes: readonly number[], promptTokens: number, outputTokens: number): KvReservation | null {
    const shared: Block[] = [];
    let reactivated = 0;
    let prefix = 0;
    for (let i = 0; i < hashes.length; i++) {
      const b = this.blocks.get(hashes[i]!);
      if (!b) continue;
      if (prefix === i) prefix++;
      shared.push(b);
      if (b.refs === 0) reactivated++;
    }
    const needed = this.blocksFor(promptTokens + outputTokens);
    const fresh = needed - shared.length;
    if (this.held + reactivated + fresh > this.totalBlocks) return null;
    // Touch hit blocks tail-first so the head of a prefix is the most recently used and evicted last.
    for (let i = shared.length - 1; i >= 0; i--) {
      const b = shared[i]!;
      if (b.refs === 0) this.free.delete(b.hash);
      b.refs++;
    }
    let newPrompt = 0;
    for (const h of hashes) {
      if (this.blocks.has(h)) continue;
      const b = { hash: h, refs: 1 };
      this.blocks.set(h, b);
      shared.push(b);
      newPrompt++;
    }
    this.held += reactivated + fresh;
    this.evictOverflow();
    // At least one prompt token is always computed, as in vLLM: a fully cached prompt reports one block less.
    const hitBlocks = Math.min(prefix, Math.floor(Math.max(0, promptTokens - 1) / this.blockSize));
    return { shared, privateBlocks: fresh - newPrompt, hitTokens: hitBlocks * this.blockSize, released: false };
  }

  /** Returns a reservation's blocks; prompt blocks stay cached (evictable), tail blocks first in LRU order. */
  release(r: KvReservation): void {
    if (r.released) return;
    r.released = true;
    this.held -= r.privateBlocks;
    for (let i = r.shared.length - 1; i >= 0; i--) {
      const b = r.shared[i]!;
      if (--b.refs === 0) {
        this.held--;
        this.free.set(b.hash, b);
      }
    }
    this.evictOverflow();
  }

  /** Drops every evictable block (a restarted server has a cold cache). */
  clear(): void {
    for (const h of this.free.keys()) this.blocks.delete(h);
    this.free.clear();
  }

  private evictOverflow(): void {
    while (this.held + this.free.size > this.totalBlocks) {
      const oldest = this.free.keys().next();
      if (oldest.done) return;
      this.free.delete(oldest.value);
      this.blocks.delete(oldest.value);
    }
  }
}
