/** The answers of flow control: a 503 with Retry-After in the surface's shape (Anthropic: overloaded_error). */
import type { ShedReason } from '../call/record.js';
import { GatewayError } from '../errors.js';
import type { PriorityClass } from './classes.js';

/** Why `reason` refused a request of class `cls` at `pool`, for the client. */
function explain(pool: string, cls: PriorityClass, reason: ShedReason): string {
  switch (reason) {
    case 'saturated':
      return `pool ${pool} is saturated (its replicas report full queues or KV caches): ${cls} requests are shed`;
    case 'no_slot':
      return `every slot of pool ${pool} a ${cls} request may use is busy, and ${cls} requests do not wait`;
    case 'queue_full':
      return `every endpoint of pool ${pool} is at its max concurrency and the wait queue is full`;
    case 'displaced':
      return `a ${cls} request waiting for pool ${pool} was displaced from its full wait queue by a request of a higher class or a smaller backlog`;
    case 'timeout':
      return `every endpoint of pool ${pool} is at its max concurrency: waited the ${cls} queue timeout`;
  }
}

/**
 * The refusal of a request for overload: 503 `overloaded`, code `pool_saturated` when it waited its timeout or met a
 * full queue, `load_shed` when it was shed by its class; Retry-After, and `x-should-retry: true` (retrying later is
 * the remedy).
 */
export function overloadError(
  pool: string,
  cls: PriorityClass,
  reason: ShedReason,
  retryAfterMs: number,
): GatewayError {
  const code = reason === 'queue_full' || reason === 'timeout' ? 'pool_saturated' : 'load_shed';
  return new GatewayError(503, 'overloaded', explain(pool, cls, reason), { code, retryAfterMs, shouldRetry: true });
}
