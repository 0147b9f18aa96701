/** Content hashing of snapshots: equal content → equal version, whatever the key order. */
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

/** The version of a snapshot body: first 32 hex digits of the SHA-256 of its stable JSON. */
export function contentVersion(body: unknown): string {
  return createHash('sha256').update(stableStringify(body)).digest('hex').slice(0, 32);
}

/**
 * The version a snapshot must carry: the content version of everything in it except `version` and `generatedAt`.
 * Proxies recompute it on every push, so a snapshot altered after it was generated is refused.
 */
export function snapshotVersion(snapshot: Record<string, unknown>): string {
  const { version: _version, generatedAt: _generatedAt, ...body } = snapshot;
  return contentVersion(body);
}
