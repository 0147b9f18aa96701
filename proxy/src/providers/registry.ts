/** Adapter lookup by (surface, upstream protocol, operation). Folders register their adapters here. */
import type { Adapter, AdapterKey } from './types.js';

const adapters = new Map<AdapterKey, Adapter>();

/** Registers `adapter` for each key. */
export function registerAdapter(keys: AdapterKey[], adapter: Adapter): void {
  for (const k of keys) adapters.set(k, adapter);
}

/** The adapter for a key, or undefined when that pair cannot be translated. */
export function findAdapter(key: AdapterKey): Adapter | undefined {
  return adapters.get(key);
}
