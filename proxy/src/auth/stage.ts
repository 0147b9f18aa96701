/**
 * The authentication stage: resolve the API key to a tenant (if one was presented), then the route (rules may
 * match on the tenant), then enforce the matched policy: `authRequired` (401), the tenant's membership of the policy
 * and its model allow-list (403). Sets `call.plan` (so the pipeline does not resolve again) and `state.tenant`.
 */
import { GatewayError } from '../errors.js';
import type { HookList } from '../governance-hooks.js';
import type { CallMiddleware } from '../pipeline/middleware.js';
import type { ProxyCall } from '../pipeline/types.js';
import { type RoutePlan, resolveRoute } from '../routing/resolve.js';
import { hashKey, readApiKey } from './api-key.js';
import { setGovernance } from './context.js';
import { directoryFor } from './directory.js';
import { authErrors } from './errors.js';
import { modelAllowed } from './model-access.js';

/** Creates the authentication stage. */
export const authenticate = (hooks: HookList): CallMiddleware =>
  async function authenticate(call, next) {
    const dir = directoryFor(call.runtime.config);
    const key = readApiKey(call.header);
    const identity = key === undefined ? undefined : dir.identify(hashKey(key));
    if (identity) call.state.tenant = identity.tenant;
    const deny = (e: GatewayError, outcome: 'missing_key' | 'invalid_key' | 'forbidden') => {
      hooks.emit('onAuth', call, outcome);
      return e;
    };
    const unauthenticated = () =>
      key === undefined ? deny(authErrors.missingKey(), 'missing_key') : deny(authErrors.invalidKey(), 'invalid_key');
    let plan: RoutePlan;
    try {
      plan =
        call.plan ?? resolveRoute(call.runtime, { model: call.model, header: call.header, tenant: identity?.tenant });
    } catch (e) {
      // Do not tell unauthenticated callers which models exist when keys are required somewhere.
      if (e instanceof GatewayError && e.status === 404 && !identity && dir.anyAuthRequired) throw unauthenticated();
      throw e;
    }
    call.plan = plan;
    const policy = plan.route ? dir.policy(plan.route.policy) : undefined;
    const tenant = identity && policy ? policy.tenants.get(identity.tenant) : undefined;
    if (policy) {
      const p = policy.config;
      if (p.authRequired && !identity) throw unauthenticated();
      if (identity && p.authRequired && p.tenants.length > 0 && !tenant)
        throw deny(authErrors.routeForbidden(identity.tenant, call.model), 'forbidden');
      const models = tenant?.models;
      if (identity && models) {
        if (!mayUseModel(models, call, plan))
          throw deny(authErrors.modelForbidden(identity.tenant, call.model), 'forbidden');
        // The fallback chain must not take the tenant to pools outside its allow-list: those are skipped.
        const [primary, ...fallbacks] = plan.pools;
        const allowed = fallbacks.filter((p) => mayUsePool(models, p.config));
        if (primary && allowed.length !== fallbacks.length)
          call.plan = plan = { ...plan, pools: [primary, ...allowed] };
      }
    }
    hooks.emit('onAuth', call, identity ? 'authenticated' : 'anonymous');
    setGovernance(call, { identity, policy, tenant });
    await next();
  };

/** A tenant may use the requested model, or the pool that serves it (by its model name, id or name). */
function mayUseModel(patterns: readonly string[], call: ProxyCall, plan: RoutePlan): boolean {
  if (modelAllowed(patterns, call.model) || modelAllowed(patterns, plan.publicModel)) return true;
  const pool = plan.pools[0]?.config;
  return pool !== undefined && mayUsePool(patterns, pool);
}

/** A tenant may use a pool named by its model name, id (`namespace/name`) or name. */
function mayUsePool(patterns: readonly string[], pool: { id: string; model: string }): boolean {
  const name = pool.id.slice(pool.id.indexOf('/') + 1);
  return modelAllowed(patterns, pool.model) || modelAllowed(patterns, pool.id) || modelAllowed(patterns, name);
}
