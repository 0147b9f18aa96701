/**
 * The last scraped load of each endpoint, written by the scraper and read by the llm-aware scheduler. Keyed by the
 * EndpointState object, which belongs to one proxy and survives snapshot swaps, so proxies sharing a process never
 * see each other's data and a config push keeps what was scraped. Reads are O(1) and never wait for a scrape.
 */
import type { EndpointState } from '../config/endpoint-state.js';
import type { ServerLoad } from './parse.js';

/** Where a reading came from: the Prometheus page or llama.cpp's `/slots`. */
export type LoadSource = 'metrics' | 'slots';

/** A scraped load and when it was scraped (ms since epoch). */
export interface ScrapedLoad extends ServerLoad {
  at: number;
}

type Readings = Partial<Record<LoadSource, ScrapedLoad>>;

const latest = new WeakMap<EndpointState, Readings>();

/** Stores the result of a scrape of `e`'s `source` that completed at `at`. */
export function recordServerLoad(e: EndpointState, source: LoadSource, load: ServerLoad, at: number): void {
  const r = latest.get(e) ?? {};
  r[source] = { ...load, at };
  latest.set(e, r);
}

/** Forgets what was scraped from `e` (it is no longer watched). */
export function forgetServerLoad(e: EndpointState): void {
  latest.delete(e);
}

/**
 * What was scraped from `e` no longer ago than the backend's `metrics.staleAfterMs` at `now` (`/metrics` first,
 * `/slots` giving the running count when it is newer or `/metrics` lacks it, and KV-cache use when `/metrics` has
 * none); undefined when nothing is fresh or scraping is off, so callers rely on proxy-side data only. `at` is the
 * time of the older reading used.
 */
export function freshServerLoad(e: EndpointState, now: number): ScrapedLoad | undefined {
  const cfg = e.backend.metrics;
  const r = latest.get(e);
  if (!r || !cfg?.enabled) return undefined;
  const m = r.metrics && now - r.metrics.at <= cfg.staleAfterMs ? r.metrics : undefined;
  const s = r.slots && now - r.slots.at <= cfg.staleAfterMs ? r.slots : undefined;
  if (!s?.slots) return m;
  // The newer reading tells the running count (llama.cpp's /metrics may be blocked while /slots answers).
  const running = m?.running !== undefined && m.at >= s.at ? m.running : s.slots.processing;
  const kvUsage = m?.kvUsage ?? s.kvUsage;
  return {
    ...m,
    running,
    slots: s.slots,
    ...(kvUsage !== undefined ? { kvUsage } : {}),
    at: Math.min(m?.at ?? s.at, s.at),
  };
}
