/** What the upstream pipeline of one proxy needs, built once by createApp. */
import type { Logger } from 'pino';
import type { Clock } from '../../../shared/src/clock.js';
import type { Observers } from '../call/observers.js';
import type { WaitQueues } from '../flow-control/wait-queues.js';
import type { ReplicaLeases } from '../limits/replica-leases.js';
import type { RetryBudgets } from '../resilience/retry-budget.js';
import type { UpstreamPools } from '../upstream/pools.js';

export interface PipelineDeps {
  pools: UpstreamPools;
  log: Logger;
  observers: Observers;
  /** The retry budgets of this proxy's pools (kept across snapshots). */
  budgets: RetryBudgets;
  /** The queues of calls waiting for a free slot, by pool (flow-control/). */
  queues: WaitQueues;
  /** Largest non-streamed upstream answer read (bytes). */
  maxResponseBytes: number;
  /** Largest upstream stream event or line (bytes); larger fails the attempt as an upstream protocol error. */
  maxEventBytes: number;
  /** Fleet-wide replica leases in the shared Redis, for backends in exact mode; undefined without Redis. */
  leases: ReplicaLeases | undefined;
  /** Time of the call's deadlines, back-offs and Retry-After waits, and of the endpoint state they set. */
  clock: Clock;
}
