/** Strategy registry: one small module per strategy, selected per pool. */
import type { PoolConfig } from '../../../shared/src/proxyconfig/index.js';
import type { PoolMember } from '../config/runtime.js';
import { LeastConnections } from './least-connections.js';
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
    default:
      return new LeastConnections(members);
  }
}
