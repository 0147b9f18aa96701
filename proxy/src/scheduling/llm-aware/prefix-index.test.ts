import { describe, expect, it } from 'vitest';
import { HolderLru } from './holder-lru.js';
import { MAX_PREFIX_BLOCKS, prefixBlockHashes } from './prefix-hash.js';

describe('prefixBlockHashes', () => {
  it('gives equal hashes to equal leading blocks and different ones from the first differing block on', () => {
    const shared = 'abcdefghijklmnopq'.repeat(4); // 68 characters
    const a = prefixBlockHashes(`${shared}-one-tail-of-text`, 17);
    const b = prefixBlockHashes(`${shared}+two-tail-of-text`, 17);
    expect(a).toHaveLength(5); // 85 characters: 5 full blocks
    expect(a.slice(0, 4)).toEqual(b.slice(0, 4));
    expect(a[4]).not.toBe(b[4]);
    // Chained: a block equal in isolation but after a different prefix hashes differently.
    expect(prefixBlockHashes(`x${'a'.repeat(15)}${'b'.repeat(16)}`, 16)[1]).not.toBe(
      prefixBlockHashes(`y${'a'.repeat(15)}${'b'.repeat(16)}`, 16)[1],
    );
  });

  it('ignores a trailing partial block and caps the number of blocks', () => {
    expect(prefixBlockHashes('a'.repeat(31), 16)).toHaveLength(1);
    expect(prefixBlockHashes('a'.repeat(16 * (MAX_PREFIX_BLOCKS + 10)), 16)).toHaveLength(MAX_PREFIX_BLOCKS);
  });
});

describe('HolderLru', () => {
  it('matches each holder over the leading keys it holds without a gap', () => {
    const lru = new HolderLru<number, string>(100, 4);
    lru.record([1, 2, 3, 4], 'a');
    lru.record([1, 2], 'b');
    lru.record([1, 2, 3, 9], 'c');
    const got = new Map<string, number>();
    lru.matchChain([1, 2, 3, 4, 5], (h, n) => got.set(h, n));
    expect(got).toEqual(
      new Map([
        ['a', 4],
        ['b', 2],
        ['c', 3],
      ]),
    );
    expect(lru.holders(1)).toEqual(['c', 'b', 'a']);
  });

  it('evicts least recently used keys, tails of a chain before its head, and keeps few holders per key', () => {
    const lru = new HolderLru<number, string>(4, 2);
    lru.record([1, 2, 3, 4], 'a');
    lru.record([10], 'a'); // evicts 4, the tail of the older chain
    expect(lru.holders(4)).toBeUndefined();
    expect(lru.holders(1)).toEqual(['a']);
    expect(lru.size).toBe(4);
    lru.record([1], 'b');
    lru.record([1], 'c');
    expect(lru.holders(1)).toEqual(['c', 'b']);
  });
});
