/**
 * Endpoint upkeep across snapshot swaps: active health checks follow the served snapshot, and the schedulers of
 * a replaced runtime stop watching endpoints. Wired once by server.ts.
 */
import type { Logger } from 'pino';
import type { Observers } from '../call/observers.js';
import type { SnapshotStore } from '../config/store.js';
import { disposeSchedulers } from '../scheduling/index.js';
import { HealthChecker } from './checker.js';

export { HealthChecker } from './checker.js';

/** Starts health checking for `store`'s snapshots; returns the function that stops it. */
export function maintainEndpoints(
  store: SnapshotStore,
  opts: { log: Logger; observers: Observers },
): () => Promise<void> {
  const checker = new HealthChecker({
    log: opts.log,
    onHealthChange: (e, from, to) => opts.observers.emit('onHealthChange', e, from, to),
  });
  const unsubscribe = store.subscribe((rt, previous) => {
    checker.sync(rt);
    if (previous) disposeSchedulers(previous);
  });
  return async () => {
    unsubscribe();
    await checker.stop();
  };
}
