/**
 * Endpoint upkeep across snapshot swaps, wired once by server.ts: active health checks and load scraping follow the
 * served snapshot (its `checked` and `scraped` endpoints), and the schedulers of a replaced runtime stop watching
 * endpoints.
 */
import type { Logger } from 'pino';
import { type Clock, systemClock } from '../../../shared/src/clock.js';
import { MetricsScraper } from '../endpoint-metrics/scraper.js';
import type { EndpointState, Health } from '../endpoints/state.js';
import { HealthChecker } from '../health/checker.js';
import { disposeSchedulers } from './runtime.js';
import type { SnapshotStore } from './store.js';

export interface UpkeepOptions {
  log: Logger;
  /** Time and timers of checks and scrapes (default: the system clock). */
  clock?: Clock;
  /** Told about every change of an endpoint's health. */
  onHealthChange?(endpoint: EndpointState, from: Health, to: Health): void;
}

/** Starts health checks and load scraping for `store`'s snapshots; returns the function that stops them. */
export function maintainEndpoints(store: SnapshotStore, opts: UpkeepOptions): () => Promise<void> {
  const clock = opts.clock ?? systemClock;
  const checker = new HealthChecker({
    log: opts.log,
    clock,
    ...(opts.onHealthChange ? { onHealthChange: opts.onHealthChange } : {}),
  });
  const scraper = new MetricsScraper(opts.log, { clock });
  const unsubscribe = store.subscribe((rt, previous) => {
    checker.sync(rt.checked);
    scraper.sync(rt.scraped);
    if (previous) disposeSchedulers(previous);
  });
  return async () => {
    unsubscribe();
    await Promise.all([checker.stop(), scraper.stop()]);
  };
}
