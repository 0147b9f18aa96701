/**
 * The prefix index and session table of one pool, carried across snapshot swaps: a new scheduler for a pool
 * finds the tables of its predecessor through the EndpointState objects it shares with it (they survive swaps),
 * so a config push does not forget which replica holds which prefix. One registry per proxy (its snapshots pass it
 * on from one compiled runtime to the next): two proxies in one process never share tables.
 */
import type { EndpointState } from '../../endpoints/state.js';
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

/** The affinity tables of one proxy's pools, found through the endpoints they are about. */
export class AffinityRegistry {
  private readonly byEndpoint = new WeakMap<EndpointState, Map<string, AffinityTables>>();

  /**
   * The tables of `poolId` known to one of `endpoints`, when their shape still matches; new tables otherwise.
   * Registers the result with every endpoint.
   */
  tablesFor(
    poolId: string,
    endpoints: readonly EndpointState[],
    blockChars: number,
    maxEntries: number,
  ): AffinityTables {
    let tables: AffinityTables | undefined;
    for (const e of endpoints) {
      const t = this.byEndpoint.get(e)?.get(poolId);
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
      const pools = this.byEndpoint.get(e) ?? new Map<string, AffinityTables>();
      pools.set(poolId, tables);
      this.byEndpoint.set(e, pools);
    }
    return tables;
  }
}
