/** Deterministic embedding vectors: unit-length, seeded by the input text, so equal inputs give equal vectors. */
import { hashString, prng } from './tokens.js';

/** Largest `dimensions` served (real servers refuse more than the model's size; a vector is built in one go). */
export const MAX_EMBEDDING_DIM = 4096;

/** The vector size a request asks for: its `dimensions`, else `fallback`; null when out of range (a 400). */
export function embeddingDim(dimensions: unknown, fallback: number): number | null {
  if (dimensions === undefined || dimensions === null) return fallback;
  return Number.isInteger(dimensions) && (dimensions as number) > 0 && (dimensions as number) <= MAX_EMBEDDING_DIM
    ? (dimensions as number)
    : null;
}

/** A unit vector of `dim` floats (float32 precision) for `text`. */
export function embedVector(text: string, dim: number): number[] {
  const next = prng(hashString(text));
  const v = new Float32Array(dim);
  let norm = 0;
  for (let i = 0; i < dim; i++) {
    const x = next() * 2 - 1;
    v[i] = x;
    norm += x * x;
  }
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let i = 0; i < dim; i++) v[i] = v[i]! * scale;
  return Array.from(v);
}

/** Base64 of the vector as little-endian float32 (OpenAI's `encoding_format: "base64"`). */
export function vectorBase64(v: readonly number[]): string {
  const buf = Buffer.allocUnsafe(v.length * 4);
  for (let i = 0; i < v.length; i++) buf.writeFloatLE(v[i]!, i * 4);
  return buf.toString('base64');
}

/** Inputs of an embedding request (`string | string[] | number[] | number[][]`) as texts; null if malformed. */
export function embeddingInputs(input: unknown): string[] | null {
  const tokens = (xs: readonly unknown[]) => xs.map((t) => `t${String(t)}`).join(' ');
  if (typeof input === 'string') return [input];
  if (!Array.isArray(input) || input.length === 0) return null;
  if (input.every((x) => typeof x === 'string')) return input as string[];
  if (input.every((x) => typeof x === 'number')) return [tokens(input)];
  if (input.every((x) => Array.isArray(x) && x.every((t) => typeof t === 'number'))) {
    return (input as unknown[][]).map(tokens);
  }
  return null;
}
