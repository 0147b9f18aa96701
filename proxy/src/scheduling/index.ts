/**
 * Strategy registry: one small module per strategy, selected per pool. Every strategy picks in O(1) or
 * O(log n) (see each module), except `llm-aware`, which scores every member (O(n + prompt blocks)).
 */
import type { PoolConfig } from '../../../shared/src/proxyconfig/index.js';
import type { PoolMember, Runtime } from '../config/runtime.js';
import { LeastConnections } from './least-connections.js';
import { LlmAwareScheduler } from './llm-aware/strategy.js';
import { PeakEwmaP2C } from './peak-ewma.js';
import { WeightedRandom } from './random.js';
import type { Scheduler } from './types.js';
import { WeightedRoundRobin } from './weighted-round-robin.js';

export type { PickContext, Scheduler } from './types.js';

/** Builds the scheduler of one tier of `pool`. */
export function createScheduler(pool: PoolConfig, members: PoolMember[]): Scheduler {
  switch (pool.scheduling.strategy) {
    case 'weighted-round-robin':
      return new WeightedRoundRobin(members);
    case 'random':
      return new WeightedRandom(members);
    case 'peak-ewma':
      return new PeakEwmaP2C(members);
    case 'llm-aware':
      return new LlmAwareScheduler(pool, members);
    default:
      return new LeastConnections(members);
  }
}

/** Stops the schedulers of a replaced runtime from watching endpoints (requests still on it keep working). */
export function disposeSchedulers(rt: Runtime): void {
  for (const pool of rt.pools.values()) for (const tier of pool.tiers) tier.scheduler.dispose?.();
}
