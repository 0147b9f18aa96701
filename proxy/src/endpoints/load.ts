/**
 * The last scraped load of each endpoint, written by the scraper (endpoint-metrics/) and read by the llm-aware
 * scheduler. Kept on the EndpointState, which belongs to one proxy and survives snapshot swaps, so proxies sharing a
 * process never see each other's data and a config push keeps what was scraped. Reads are O(1) and never wait for a
 * scrape.
 */
import type { EndpointState } from './state.js';

/** What one scrape of `/metrics` (and `/slots`) tells about a replica. Absent fields were not reported. */
export interface ServerLoad {
  /** Requests being generated (vLLM `num_requests_running`, llama.cpp `requests_processing`). */
  running?: number;
  /** Requests waiting for a slot or KV blocks (vLLM `num_requests_waiting`, llama.cpp `requests_deferred`). */
  waiting?: number;
  /**
   * KV-cache use, 0..1. vLLM: `kv_cache_usage_perc`. llama.cpp: from `/slots`, the tokens held by the slots that are
   * processing over the slots' contexts summed (with a unified KV cache, llama-server's default without
   * `--parallel`, every slot reports the whole context and this reads low by the number of slots).
   */
  kvUsage?: number;
  /**
   * vLLM `cache_config_info`: tokens per KV block and blocks on the GPU. Shown in GET /config/endpoints only; the
   * prefix index does not use them (it cuts the proxy's canonical prompt text into character blocks, which cannot
   * line up with the server's token blocks of its chat-templated prompt).
   */
  blockSize?: number;
  kvBlocks?: number;
  /** vLLM `lora_requests_info`: adapters with running / waiting requests and the most per batch. */
  loras?: { running: string[]; waiting: string[]; max: number };
  /** llama.cpp `/slots`: slots in total and busy. */
  slots?: { total: number; processing: number };
}

/** Where a reading came from: the Prometheus page or llama.cpp's `/slots`. */
export type LoadSource = 'metrics' | 'slots';

/**
 * A scraped load, when it was scraped (ms since epoch) and how many of this proxy's requests to the endpoint had
 * finished when the scrape was sent (`EndpointState.finished`): the server takes its reading somewhere between the
 * scrape's start and its answer, so only the requests that ended before the start are surely not in it; the ones
 * finished since cannot still be running there, however old the reading is.
 */
export interface ScrapedLoad extends ServerLoad {
  at: number;
  finished: number;
}

/** The last reading of each source. */
export type LoadReadings = Partial<Record<LoadSource, ScrapedLoad>>;

/**
 * Stores the result of a scrape of `e`'s `source` that completed at `at` and was sent when `finished` of this
 * proxy's requests there had ended (`e.finished` then; now by default, for a reading taken on the spot).
 */
export function recordServerLoad(
  e: EndpointState,
  source: LoadSource,
  load: ServerLoad,
  at: number,
  finished = e.finished,
): void {
  e.readings = { ...e.readings, [source]: { ...load, at, finished } };
}

/** Forgets what was scraped from `e` (it is no longer watched). */
export function forgetServerLoad(e: EndpointState): void {
  e.readings = {};
}

/**
 * What was scraped from `e` no longer ago than the backend's `metrics.staleAfterMs` at `now` (`/metrics` first,
 * `/slots` giving the running count when it is newer or `/metrics` lacks it, and KV-cache use when `/metrics` has
 * none); undefined when nothing is fresh or scraping is off, so callers rely on proxy-side data only. `at` is the
 * time of the older reading used.
 */
export function freshServerLoad(e: EndpointState, now: number): ScrapedLoad | undefined {
  const cfg = e.backend.metrics;
  const r = e.readings;
  if (!cfg?.enabled) return undefined;
  const m = r.metrics && now - r.metrics.at <= cfg.staleAfterMs ? r.metrics : undefined;
  const s = r.slots && now - r.slots.at <= cfg.staleAfterMs ? r.slots : undefined;
  if (!s?.slots) return m;
  // The newer reading tells the running count (llama.cpp's /metrics may be blocked while /slots answers).
  const fromMetrics = m?.running !== undefined && m.at >= s.at;
  const running = fromMetrics ? m.running : s.slots.processing;
  const kvUsage = m?.kvUsage ?? s.kvUsage;
  return {
    ...m,
    running,
    slots: s.slots,
    ...(kvUsage !== undefined ? { kvUsage } : {}),
    at: Math.min(m?.at ?? s.at, s.at),
    finished: fromMetrics ? m.finished : s.finished,
  };
}

/**
 * Requests running or waiting on `e` by the reading `load`, less this proxy's requests that finished there since
 * the scrape was sent (a reading is up to a scrape interval old, and a starved server answers a scrape late; a
 * conversation's next turn must not find its replica busy with its own previous turn), and never less than this
 * proxy's requests in flight there. A request that ended while the scrape was on its way and that the server had
 * already let go is subtracted too: the result reads low by at most those, never below this proxy's own load.
 */
export function serverQueue(e: EndpointState, load: ScrapedLoad | undefined): number {
  if (!load) return e.inflight;
  const reported = (load.running ?? 0) + (load.waiting ?? 0);
  return Math.max(e.inflight, reported - (e.finished - load.finished));
}
