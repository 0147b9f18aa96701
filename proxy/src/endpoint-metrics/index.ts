/**
 * Endpoint load metrics for LLM-aware scheduling: scraping follows the served snapshot (`scrapeEndpointMetrics`,
 * wired once by server.ts); schedulers read the last fresh reading with `freshServerLoad`.
 */
import type { Logger } from 'pino';
import type { EndpointState } from '../config/endpoint-state.js';
import type { SnapshotStore } from '../config/store.js';
import { MetricsScraper } from './scraper.js';
import { freshServerLoad } from './store.js';

export type { ServerLoad } from './parse.js';
export { freshServerLoad, type ScrapedLoad } from './store.js';

/** Starts scraping for `store`'s snapshots; returns the function that stops it. */
export function scrapeEndpointMetrics(store: SnapshotStore, log: Logger): () => Promise<void> {
  const scraper = new MetricsScraper(log);
  const unsubscribe = store.subscribe((rt) => scraper.sync(rt));
  return async () => {
    unsubscribe();
    await scraper.stop();
  };
}

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
