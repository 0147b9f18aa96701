/**
 * The prefix index and session table of one pool, carried across snapshot swaps: a new scheduler for a pool
 * finds the tables of its predecessor through the EndpointState objects it shares with it (they survive swaps),
 * so a config push does not forget which replica holds which prefix. Keyed per proxy by construction: two proxies
 * in one process never share endpoint objects.
 */
import type { EndpointState } from '../../config/endpoint-state.js';
import { HolderLru } from './holder-lru.js';

/** Endpoints remembered per prefix block: a prefix popular enough to spill over stays matched on a few replicas. */
const HOLDERS_PER_BLOCK = 4;

/** Affinity state of one pool in one proxy. */
export interface AffinityTables {
  blockChars: number;
  /** Chained prefix block hash → endpoints that served a prompt with that prefix. */
  prefixes: HolderLru<number, EndpointState>;
  /** Session key → the endpoint that served the session last. */
  sessions: HolderLru<string, EndpointState>;
}

const byEndpoint = new WeakMap<EndpointState, Map<string, AffinityTables>>();

/**
 * The tables of `poolId` known to one of `endpoints`, when their shape still matches; new tables otherwise.
 * Registers the result with every endpoint.
 */
export function affinityTablesFor(
  poolId: string,
  endpoints: readonly EndpointState[],
  blockChars: number,
  maxEntries: number,
): AffinityTables {
  let tables: AffinityTables | undefined;
  for (const e of endpoints) {
    const t = byEndpoint.get(e)?.get(poolId);
    if (t && t.blockChars === blockChars && t.prefixes.maxEntries === maxEntries) {
      tables = t;
      break;
    }
  }
  tables ??= {
    blockChars,
    prefixes: new HolderLru(maxEntries, HOLDERS_PER_BLOCK),
    sessions: new HolderLru(maxEntries, 1),
  };
  for (const e of endpoints) {
    const pools = byEndpoint.get(e) ?? new Map<string, AffinityTables>();
    pools.set(poolId, tables);
    byEndpoint.set(e, pools);
  }
  return tables;
}
