/** Content hashing of snapshots, and a key-order-independent JSON form for comparing values. */
import { createHash } from 'node:crypto';

/** JSON with object keys sorted recursively, so equal values serialise equally. */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
}

/**
 * The version a snapshot carries: the first 32 hex digits of the SHA-256 of its JSON with `version` and
 * `generatedAt` blanked. The snapshot must be the schema's parse output: parsing fixes the key order (the schema's),
 * so equal content gives an equal version, and the proxy can re-check it after its own parse in a few milliseconds
 * (a key-sorting canonical form costs ~70 ms on a 1.6 MB snapshot).
 */
export function snapshotVersion(parsed: { version: string; generatedAt: string }): string {
  return createHash('sha256')
    .update(JSON.stringify({ ...parsed, version: '', generatedAt: '' }))
    .digest('hex')
    .slice(0, 32);
}
