/**
 * Deterministic stand-in for a tokenizer and a sampler.
 *
 * Tokens ≈ runs of ASCII word characters (`\w+`) and single other non-space characters (punctuation, and every
 * non-ASCII character, so CJK text counts one token per character). Real BPE tokenizers give ~1.3 tokens per
 * English word; this approximation is stable, fast and good enough for usage accounting and cache modelling.
 */

const TOKEN = /\w+|[^\s\w]/g;
/** Output pieces keep their leading whitespace so that joining them restores the text exactly. */
const PIECE = /\s*(?:\w+|[^\s\w])|\s+$/g;

/** Result of {@link analyzePrompt}. */
export interface PromptAnalysis {
  tokens: number;
  /** Chain hashes of the full blocks (hash i covers tokens 0 .. (i+1)*blockSize-1); empty when blockSize is 0. */
  blockHashes: number[];
  /** Hash of the whole prompt: seeds the generated text. */
  seed: number;
}

const M1 = 2654435761;
const M2 = 1597334677;

function finalize(h1: number, h2: number): number {
  let a = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  a ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  let b = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  b ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & b) + (a >>> 0);
}

/**
 * Tokenises `text` and, when `blockSize > 0`, hashes it in fixed blocks. The hash state runs over the whole prefix,
 * so a block's hash depends on every earlier block (the chained block hash of vLLM's prefix cache).
 */
export function analyzePrompt(text: string, blockSize: number): PromptAnalysis {
  const tokens = text.match(TOKEN) ?? [];
  const blockHashes: number[] = [];
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    for (let j = 0; j < t.length; j++) {
      const c = t.charCodeAt(j);
      h1 = Math.imul(h1 ^ c, M1);
      h2 = Math.imul(h2 ^ c, M2);
    }
    h1 = Math.imul(h1 ^ 0x1f, M1);
    h2 = Math.imul(h2 ^ 0x1f, M2);
    if (blockSize > 0 && (i + 1) % blockSize === 0) blockHashes.push(finalize(h1, h2));
  }
  return { tokens: tokens.length, blockHashes, seed: finalize(h1, h2) };
}

/** Number of tokens of `text` under the simulator's approximation. */
export function countTokens(text: string): number {
  return text.match(TOKEN)?.length ?? 0;
}

/** Splits `text` into output pieces (one per token); `pieces.join('') === text`. */
export function splitPieces(text: string): string[] {
  return text.match(PIECE) ?? [];
}

/** Small fast PRNG (mulberry32); returns a function yielding floats in [0, 1). */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'the of and to in is that it for as with was on be by this are from at or an have not which but all were ' +
  'can more one has their its will about other into also time some these two may than first only new when ' +
  'model token cache server request stream latency queue batch river mountain garden window signal harbor ' +
  'quiet bright simple steady careful gentle rapid silver amber green blue north south light sound paper'
).split(' ');

/** `count` deterministic word pieces for `seed`: `["Word", " word", …]`. */
export function generatePieces(seed: number, count: number): string[] {
  const next = prng(seed);
  const out = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const w = WORDS[Math.floor(next() * WORDS.length)]!;
    out[i] = i === 0 ? w[0]!.toUpperCase() + w.slice(1) : ` ${w}`;
  }
  return out;
}

/** Hash of a short string (embedding seeds, ids). */
export function hashString(text: string): number {
  return analyzePrompt(text, 0).seed;
}

/**
 * Truncates `pieces` before the earliest occurrence of any stop string (the stop string itself is not part of the
 * output, as in vLLM and OpenAI). Returns the kept pieces and the matched stop string, or null.
 */
export function applyStop(pieces: string[], stops: readonly string[]): { pieces: string[]; stop: string | null } {
  if (stops.length === 0) return { pieces, stop: null };
  const text = pieces.join('');
  let at = -1;
  let matched: string | null = null;
  for (const s of stops) {
    if (!s) continue;
    const i = text.indexOf(s);
    if (i >= 0 && (at < 0 || i < at)) {
      at = i;
      matched = s;
    }
  }
  if (matched === null) return { pieces, stop: null };
  const kept: string[] = [];
  let len = 0;
  for (const p of pieces) {
    if (len + p.length <= at) {
      kept.push(p);
      len += p.length;
    } else {
      if (at > len) kept.push(p.slice(0, at - len));
      break;
    }
  }
  return { pieces: kept, stop: matched };
}

const ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Random id suffix of `len` base62 characters (ids need not be deterministic). */
export function randomId(len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) s += ID_CHARS[Math.floor(Math.random() * 62)];
  return s;
}

/** Random lowercase hex string of `len` characters. */
export function randomHex(len: number): string {
  let s = '';
  while (s.length < len)
    s += Math.floor(Math.random() * 0x100000000)
      .toString(16)
      .padStart(8, '0');
  return s.slice(0, len);
}
