/**
 * Strategy registry: one small module per strategy, selected per pool. Every strategy picks in O(1) or
 * O(log n) (see each module), except `llm-aware`, which scores every member (O(n + prompt blocks)).
 */
import type { PoolConfig } from '../../../shared/src/proxyconfig/index.js';
import type { PoolMember } from '../endpoints/member.js';
import { LeastConnections } from './least-connections.js';
import type { AffinityRegistry } from './llm-aware/affinity-tables.js';
import { LlmAwareScheduler } from './llm-aware/strategy.js';
import { PeakEwmaP2C } from './peak-ewma.js';
import { WeightedRandom } from './random.js';
import type { Scheduler } from './types.js';
import { WeightedRoundRobin } from './weighted-round-robin.js';

export { AffinityRegistry } from './llm-aware/affinity-tables.js';
export type { PickContext, Scheduler } from './types.js';

/** Builds the scheduler of one tier of `pool`; `affinity` holds this proxy's prefix and session tables. */
export function createScheduler(pool: PoolConfig, members: PoolMember[], affinity: AffinityRegistry): Scheduler {
  switch (pool.scheduling.strategy) {
    case 'weighted-round-robin':
      return new WeightedRoundRobin(members);
    case 'random':
      return new WeightedRandom(members);
    case 'peak-ewma':
      return new PeakEwmaP2C(members);
    case 'llm-aware':
      return new LlmAwareScheduler(pool, members, affinity);
    default:
      return new LeastConnections(members);
  }
}
