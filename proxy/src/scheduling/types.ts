/**
 * The contract every scheduling strategy implements: pick one available member of a tier per request.
 * Stable: later strategies (llm-aware) implement the same interface.
 */

import type { PoolMember } from '../endpoints/member.js';
import type { EndpointState } from '../endpoints/state.js';

/** What a strategy may look at for one pick. */
export interface PickContext {
  /** Current time (ms since epoch), passed to `EndpointState.available(now)`. */
  now: number;
  /** Endpoints already tried by this request: never returned (the caller retries without it when it must). */
  exclude: ReadonlySet<EndpointState>;
  /** Canonical prompt text, for prefix-aware strategies. */
  prompt?: string;
  /** Session key (header or `user`), for session affinity. */
  session?: string;
}

export interface Scheduler {
  /**
   * An available member (`endpoint.available(ctx.now)`, weight > 0, not in `ctx.exclude`), or undefined when
   * none is. Synchronous; the caller calls `endpoint.acquire()` on the result right away.
   */
  pick(ctx: PickContext): PoolMember | undefined;
  /** Stops watching endpoints (the runtime holding this scheduler was replaced). Picks still work after it. */
  dispose?(): void;
}

/** Members that may take a request now and were not tried yet. O(n): for strategies that score every member. */
export function eligible(members: readonly PoolMember[], ctx: PickContext): PoolMember[] {
  return members.filter((m) => m.weight > 0 && !ctx.exclude.has(m.endpoint) && m.endpoint.available(ctx.now));
}
