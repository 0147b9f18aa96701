/**
 * Chained block hashes of a canonical prompt: the text is cut into `blockChars`-character blocks and the hash of
 * block i covers every character up to the end of block i, so equal hashes mean equal prefixes (up to collisions
 * of a 53-bit hash). A trailing partial block is not hashed (as a KV cache only shares full blocks).
 * Two 32-bit multiplicative lanes over pairs of UTF-16 code units: about 1 ns per character, no allocation per
 * block.
 */

/** Most blocks hashed per prompt: longer prompts are matched on their first `MAX_PREFIX_BLOCKS` blocks. */
export const MAX_PREFIX_BLOCKS = 1024;

/** The chained hashes of the full blocks of `text` (at most `MAX_PREFIX_BLOCKS`). */
export function prefixBlockHashes(text: string, blockChars: number): number[] {
  const n = Math.min(Math.floor(text.length / blockChars), MAX_PREFIX_BLOCKS);
  const out = new Array<number>(n);
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  let i = 0;
  for (let block = 0; block < n; block++) {
    const end = i + blockChars;
    // Two UTF-16 code units per step (half the multiplications' dependency chain), then an odd one if left.
    for (; i + 1 < end; i += 2) {
      const c = text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
      b ^= b >>> 13;
    }
    if (i < end) {
      const c = text.charCodeAt(i++);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
      b ^= b >>> 13;
    }
    // 32 bits of one lane and 21 of the other: an exact integer below 2^53.
    out[block] = (a >>> 0) * 0x200000 + (b >>> 11);
  }
  return out;
}

/**
 * Remembers the hashes of the last prompt hashed, so the retries of one request (same string) hash it once.
 * One per scheduler; not shared across schedulers.
 */
export class PromptHasher {
  private lastText: string | undefined;
  private lastHashes: number[] = [];

  constructor(private readonly blockChars: number) {}

  hashes(text: string): number[] {
    if (text !== this.lastText) {
      this.lastHashes = prefixBlockHashes(text, this.blockChars);
      this.lastText = text;
    }
    return this.lastHashes;
  }
}
