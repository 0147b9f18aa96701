/**
 * Endpoint upkeep across snapshot swaps: active health checks follow the served snapshot, and the schedulers of
 * a replaced runtime stop watching endpoints. Wired once by server.ts.
 */
import type { Logger } from 'pino';
import type { SnapshotStore } from '../config/store.js';
import type { PipelineHooks } from '../pipeline/types.js';
import { disposeSchedulers } from '../scheduling/index.js';
import { HealthChecker } from './checker.js';

export { HealthChecker } from './checker.js';

/** Starts health checking for `store`'s snapshots; returns the function that stops it. */
export function maintainEndpoints(
  store: SnapshotStore,
  opts: { log: Logger; hooks?: () => PipelineHooks | undefined },
): () => Promise<void> {
  const checker = new HealthChecker(opts);
  const unsubscribe = store.subscribe((rt, previous) => {
    checker.sync(rt);
    if (previous) disposeSchedulers(previous);
  });
  return async () => {
    unsubscribe();
    await checker.stop();
  };
}
