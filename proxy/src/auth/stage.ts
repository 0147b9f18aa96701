/**
 * The authorisation stage: resolve the API key to a tenant (if one was presented), then authorise the call on the
 * pools its route resolved to (authorize.ts: 401 without a key where a covering policy requires one, 403 outside a
 * tenant's policies or allow-list, the default access for pools no policy covers). The call goes on with its route
 * narrowed to the fallbacks the caller may reach and its grant; the record gets the caller, the observers the outcome.
 */
import type { AuthorizedCall, Call, Stage } from '../call/call.js';
import type { Observers } from '../call/observers.js';
import type { Runtime } from '../config/runtime.js';
import { AuthDenial, authorize, callerOf } from './authorize.js';
import { authErrors } from './errors.js';

/**
 * Screens a caller from its headers alone, before its body is read: true when it presented a valid API key. A key
 * that is presented but valid nowhere is refused at once (401, connection closed: its body is never read) when any
 * policy requires keys — the same answer the model lists give it.
 */
export const screenCaller =
  (observers: Observers) =>
  (runtime: Runtime, header: (name: string) => string | undefined): boolean => {
    const caller = callerOf(runtime, header);
    if (caller.identity) return true;
    if (caller.key !== undefined && caller.dir.anyAuthRequired) {
      observers.emit('onAuth', undefined, 'invalid_key');
      throw authErrors.invalidKey().withHeaders({ connection: 'close' });
    }
    return false;
  };

/** Creates the authorisation stage. */
export const authenticate = (observers: Observers): Stage<Call, AuthorizedCall> =>
  async function authenticate(call, next) {
    const caller = callerOf(call.runtime, call.header);
    const identity = caller.identity;
    if (identity) call.record.caller = { policy: identity.policy, tenant: identity.tenant, keyId: identity.keyId };
    let decision: ReturnType<typeof authorize>;
    try {
      decision = authorize(call.runtime, caller, call.model, call.header, call.route);
    } catch (e) {
      if (!(e instanceof AuthDenial)) throw e;
      observers.emit('onAuth', call, e.outcome);
      throw e.error;
    }
    observers.emit('onAuth', call, identity ? 'authenticated' : 'anonymous');
    await next({ ...call, route: decision.plan, grant: { identity, own: decision.own, tenant: decision.tenant } });
  };
