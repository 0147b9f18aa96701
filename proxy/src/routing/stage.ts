/**
 * The routing stages of a call: route resolution before any policy (the plan: pools, fallbacks, the matched rule,
 * the system prompt), and, once the call is authorised, the system prompt applied to the body, before guardrails,
 * limits and the cache read it.
 */
import type { AuthorizedCall, Call, Stage } from '../call/call.js';
import type { RouteCaller, RoutePlan } from '../config/routes.js';
import type { PoolRuntime } from '../config/runtime.js';
import { GatewayError } from '../errors.js';
import { requestFacts, withSystemPrompt } from '../protocols/clients.js';
import { resolveRoute } from './resolve.js';

/**
 * Creates the route stage. `identify` names the caller's tenant (rules may match it). A model nothing serves leaves
 * the call without a route: the authorisation stage then gives the answer a caller may see (404, or 401 to a caller
 * without a key, so unknown callers cannot tell known models from unknown ones).
 */
export const routeCall = (identify: (call: Call) => RouteCaller | undefined): Stage<Call> =>
  async function routeCall(call, next) {
    let route: RoutePlan<PoolRuntime> | undefined;
    try {
      route = resolveRoute(call.runtime, { model: call.model, header: call.header, caller: identify(call) });
    } catch (e) {
      if (!(e instanceof GatewayError) || e.status !== 404) throw e;
    }
    await next(route ? { ...call, route } : call);
  };

/** Creates the stage applying the route's system prompt to the request (each protocol's `operations.ts` writes it). */
export const applySystemPrompt = (): Stage<AuthorizedCall> =>
  async function applySystemPrompt(call, next) {
    const p = call.route.systemPrompt;
    if (!p) return next(call);
    const request = withSystemPrompt(call.request, p);
    await next({ ...call, request, prompt: requestFacts(request).prompt ?? call.prompt });
  };
