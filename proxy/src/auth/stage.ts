/**
 * The authentication stage: resolve the API key to a tenant (if one was presented), then authorise the call on the
 * pools its route resolved to (authorize.ts: 401 without a key where a covering policy requires one, 403 outside a
 * tenant's policies or allow-list, the default access for pools no policy covers). Narrows `call.plan` to the
 * fallbacks the caller may reach, sets `state.tenant` (with its policy and key id), and reports the outcome to the governance hooks.
 */
import type { Runtime } from '../config/runtime.js';
import type { HookList } from '../governance-hooks.js';
import type { CallMiddleware } from '../pipeline/middleware.js';
import { AuthDenial, authorize, callerOf } from './authorize.js';
import { setGovernance } from './context.js';
import { authErrors } from './errors.js';

/**
 * Screens a caller from its headers alone, before its body is read: true when it presented a valid API key. A key
 * that is presented but valid nowhere is refused at once (401, connection closed: its body is never read) when any
 * policy requires keys — the same answer the model lists give it.
 */
export const screenCaller =
  (hooks: HookList) =>
  (runtime: Runtime, header: (name: string) => string | undefined): boolean => {
    const caller = callerOf(runtime, header);
    if (caller.identity) return true;
    if (caller.key !== undefined && caller.dir.anyAuthRequired) {
      hooks.emit('onAuth', undefined, 'invalid_key');
      throw authErrors.invalidKey().withHeaders({ connection: 'close' });
    }
    return false;
  };

/** Creates the authentication stage. */
export const authenticate = (hooks: HookList): CallMiddleware =>
  async function authenticate(call, next) {
    const caller = callerOf(call.runtime, call.header);
    const identity = caller.identity;
    if (identity) {
      call.state.tenant = identity.tenant;
      call.state.policy = identity.policy;
      call.state.keyId = identity.keyId;
    }
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
    setGovernance(call, { identity, own: decision.own, tenant: decision.tenant });
    await next();
  };
