/** The contract every scheduling strategy implements: pick one available member of a tier per request. */

import type { EndpointState } from '../config/endpoint-state.js';
import type { PoolMember } from '../config/runtime.js';

/** What a strategy may look at for one pick. */
export interface PickContext {
  now: number;
  /** Endpoints already tried by this request: avoided while another is available. */
  exclude: ReadonlySet<EndpointState>;
  /** Canonical prompt text, for prefix-aware strategies. */
  prompt?: string;
  /** Session key (header or `user`), for session affinity. */
  session?: string;
}

export interface Scheduler {
  /** An available member (healthy, not ejected, below max concurrency, not excluded), or undefined. */
  pick(ctx: PickContext): PoolMember | undefined;
}

/** Members that may take a request now and were not tried yet. */
export function eligible(members: readonly PoolMember[], ctx: PickContext): PoolMember[] {
  return members.filter((m) => m.weight > 0 && !ctx.exclude.has(m.endpoint) && m.endpoint.available(ctx.now));
}
