/**
 * Which guardrails check a call. Protection follows the pool (docs/governance.md): for every pool the call may be
 * served by (its pool and the fallbacks it may reach), the guardrails named by each rule that covers that pool and
 * whose header and tenant conditions the request meets, whatever rule, name or alias led there; and the caller's
 * tenant's guardrails when its policy covers that pool. Each guardrail once, in snapshot order.
 */

import type { AuthorizedCall } from '../call/call.js';
import { conditionsHold, covers } from '../routing/resolve.js';

/** Ids of the guardrails that apply to `call` (empty when its snapshot has none). */
export function guardrailIdsFor(call: AuthorizedCall): string[] {
  const plan = call.route;
  const config = call.runtime.config;
  if (!config.policies.some((p) => (p.guardrails?.length ?? 0) > 0)) return [];
  const g = call.grant;
  const caller = g.identity ? { policy: g.identity.policy, tenant: g.identity.tenant } : undefined;
  const input = { model: call.model, header: call.header, caller };
  const dir = call.runtime.directory;
  const ids = new Set<string>();
  for (const pool of plan.pools) {
    for (const r of call.runtime.routes) {
      const named = r.config.guardrails;
      if (named?.length && covers(r.config, pool.config) && conditionsHold(r, input))
        for (const id of named) ids.add(id);
    }
    const own = g.own;
    if (own && g.tenant?.guardrails?.length && dir.covering(pool.config.id).includes(own))
      for (const id of g.tenant.guardrails) ids.add(id);
  }
  return [...ids];
}
