/**
 * The authentication stage: resolve the API key to a tenant (if one was presented), then authorise the call
 * (authorize.ts: route, `authRequired` 401, tenant membership and model allow-list 403). Sets `call.plan` (so the
 * pipeline does not resolve again) and `state.tenant`, and reports the outcome to the governance hooks.
 */
import type { HookList } from '../governance-hooks.js';
import type { CallMiddleware } from '../pipeline/middleware.js';
import { AuthDenial, authorize, callerOf } from './authorize.js';
import { setGovernance } from './context.js';

/** Creates the authentication stage. */
export const authenticate = (hooks: HookList): CallMiddleware =>
  async function authenticate(call, next) {
    const caller = callerOf(call.runtime, call.header);
    const identity = caller.identity;
    if (identity) call.state.tenant = identity.tenant;
    let decision: ReturnType<typeof authorize>;
    try {
      decision = authorize(call.runtime, caller, call.model, call.header, call.plan);
    } catch (e) {
      if (!(e instanceof AuthDenial)) throw e;
      hooks.emit('onAuth', call, e.outcome);
      throw e.error;
    }
    call.plan = decision.plan;
    hooks.emit('onAuth', call, identity ? 'authenticated' : 'anonymous');
    setGovernance(call, { identity, policy: decision.policy, tenant: decision.tenant });
    await next();
  };
