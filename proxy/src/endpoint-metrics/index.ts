/**
 * Endpoint load metrics for LLM-aware scheduling: the scraper (config/upkeep.ts follows the served snapshot with it)
 * stores each reading on its endpoint (endpoints/load.ts), where schedulers read the last fresh one.
 */
import { freshServerLoad } from '../endpoints/load.js';
import type { EndpointState } from '../endpoints/state.js';

export { freshServerLoad, type ScrapedLoad, type ServerLoad } from '../endpoints/load.js';

/**
 * The fresh scraped load of `e` for GET /config/endpoints, with its age; null when there is none. The KV block
 * size and block count (vLLM `cache_config_info`) are shown for diagnostics only: scheduling does not read them.
 */
export function serverLoadView(e: EndpointState, now: number) {
  const m = freshServerLoad(e, now);
  if (!m) return null;
  return {
    running: m.running ?? null,
    waiting: m.waiting ?? null,
    kvCacheUsage: m.kvUsage ?? null,
    runningLoras: m.loras?.running ?? null,
    kvBlockSize: m.blockSize ?? null,
    kvBlocks: m.kvBlocks ?? null,
    ageMs: Math.max(0, now - m.at),
  };
}
