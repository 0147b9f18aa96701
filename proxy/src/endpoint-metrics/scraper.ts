/**
 * Scrapes vLLM / llama.cpp load metrics from the endpoints of llm-aware pools: one timer loop per (endpoint,
 * source) with at most one scrape in flight, each bounded by the backend's `staleAfterMs` (data older than that is
 * ignored anyway), on a connection pool of its own so scrapes never queue behind traffic nor traffic behind them.
 * Scheduling never waits for a scrape: it reads the last stored reading (endpoints/load.ts). A `/metrics` that blocks
 * (llama.cpp while decoding) only makes the reading go stale. A source answering 404/501 (`/metrics` of a server
 * started without metrics, llama.cpp's `/slots` with --no-slots) is asked again only after `unsupportedRetryMs`
 * (60 s), so a server restarted with it enabled is picked up again without polling a missing page every interval.
 */
import type { Logger } from 'pino';
import { Agent, request } from 'undici';
import { type Clock, systemClock, type Timer } from '../../../shared/src/clock.js';
import { forgetServerLoad, type LoadSource, recordServerLoad } from '../endpoints/load.js';
import type { EndpointState } from '../endpoints/state.js';
import { readCapped } from '../http/read-capped.js';
import { parseServerMetrics, parseSlots, type ServerLoad } from './parse.js';

/** Largest page read; vLLM's is tens of kB. */
const MAX_BODY_BYTES = 4 << 20;
const MIN_TIMEOUT_MS = 50;
/** Back-off before asking again a source that answered 404/501. */
export const UNSUPPORTED_RETRY_MS = 60_000;

export interface ScraperOptions {
  /** Delay before a source that answered 404/501 is scraped again (default UNSUPPORTED_RETRY_MS). */
  unsupportedRetryMs?: number;
  /** Time and timers of the scrape loops (default: the system clock). */
  clock?: Clock;
  /** Where in its first interval an endpoint is first scraped, in [0, 1) (default Math.random: spread out). */
  random?: () => number;
}

interface Loop {
  timer: Timer | undefined;
  controller: AbortController | undefined;
  /** The last answer was 404/501: the source is in its back-off. */
  unsupported: boolean;
}

export class MetricsScraper {
  private readonly loops = new Map<EndpointState, Map<LoadSource, Loop>>();
  private readonly agent = new Agent({ connections: 2, keepAliveTimeout: 30_000, pipelining: 1 });
  private readonly unsupportedRetryMs: number;
  private readonly clock: Clock;
  private readonly random: () => number;

  constructor(
    private readonly log: Logger,
    opts: ScraperOptions = {},
  ) {
    this.unsupportedRetryMs = opts.unsupportedRetryMs ?? UNSUPPORTED_RETRY_MS;
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? Math.random;
  }

  /** Scrapes `wanted` (the snapshot's `scraped` endpoints); stops scraping the others. */
  sync(wanted: ReadonlySet<EndpointState>): void {
    for (const e of this.loops.keys()) if (!wanted.has(e)) this.unwatch(e);
    for (const e of wanted) if (!this.loops.has(e)) this.watch(e);
  }

  /** Stops every loop and aborts scrapes in flight. */
  async stop(): Promise<void> {
    for (const e of [...this.loops.keys()]) this.unwatch(e);
    await this.agent.close().catch(() => undefined);
  }

  private watch(e: EndpointState): void {
    const loops = new Map<LoadSource, Loop>();
    this.loops.set(e, loops);
    const sources: LoadSource[] = e.backend.provider === 'llamacpp' ? ['metrics', 'slots'] : ['metrics'];
    for (const source of sources) {
      const loop: Loop = { timer: undefined, controller: undefined, unsupported: false };
      loops.set(source, loop);
      // Spread the first scrapes over one interval so endpoints are not scraped in lockstep.
      this.schedule(e, source, loop, this.random() * (e.backend.metrics?.intervalMs ?? 0));
    }
  }

  private unwatch(e: EndpointState): void {
    const loops = this.loops.get(e);
    if (!loops) return;
    this.loops.delete(e);
    for (const loop of loops.values()) {
      loop.timer?.cancel();
      loop.controller?.abort();
    }
    forgetServerLoad(e);
  }

  private schedule(e: EndpointState, source: LoadSource, loop: Loop, delayMs: number): void {
    loop.timer = this.clock.after(Math.max(0, delayMs), () => void this.run(e, source, loop), { unref: true });
  }

  private async run(e: EndpointState, source: LoadSource, loop: Loop): Promise<void> {
    const cfg = e.backend.metrics;
    if (!cfg?.enabled) return;
    const started = this.clock.now();
    const finished = e.finished;
    const result = await this.scrape(e, source, loop, Math.max(MIN_TIMEOUT_MS, cfg.staleAfterMs));
    if (this.loops.get(e)?.get(source) !== loop) return; // unwatched meanwhile
    if (result === 'unsupported') {
      if (!loop.unsupported)
        this.log.debug(
          { endpoint: e.id, source, retryInMs: this.unsupportedRetryMs },
          'endpoint does not serve load metrics (404/501); asking again after a back-off',
        );
      loop.unsupported = true;
      this.schedule(e, source, loop, this.unsupportedRetryMs);
      return;
    }
    if (result && loop.unsupported) this.log.debug({ endpoint: e.id, source }, 'endpoint serves load metrics again');
    if (result) {
      loop.unsupported = false;
      recordServerLoad(e, source, result, this.clock.now(), finished);
    }
    this.schedule(e, source, loop, started + cfg.intervalMs - this.clock.now());
  }

  /** One scrape: the parsed load, 'unsupported' (404/501), or undefined on any failure or timeout. */
  private async scrape(
    e: EndpointState,
    source: LoadSource,
    loop: Loop,
    timeoutMs: number,
  ): Promise<ServerLoad | 'unsupported' | undefined> {
    const controller = new AbortController();
    loop.controller = controller;
    const timer = this.clock.after(timeoutMs, () => controller.abort());
    try {
      const path = source === 'slots' ? '/slots' : (e.backend.metrics?.path ?? '/metrics');
      const headers: Record<string, string> = e.backend.apiKey ? { authorization: `Bearer ${e.backend.apiKey}` } : {};
      const res = await request(e.origin + path, {
        method: 'GET',
        headers,
        signal: controller.signal,
        dispatcher: this.agent,
      });
      if (res.statusCode === 404 || res.statusCode === 501) {
        await res.body.dump();
        return 'unsupported';
      }
      if (res.statusCode !== 200) {
        await res.body.dump();
        return undefined;
      }
      const text = await readCapped(res.body, MAX_BODY_BYTES);
      if (text === undefined) return undefined;
      if (source === 'metrics') return parseServerMetrics(text);
      return parseSlots(JSON.parse(text));
    } catch {
      return undefined;
    } finally {
      timer.cancel();
      loop.controller = undefined;
    }
  }
}
