/**
 * The routing stages of a call: route resolution before any policy (the plan: pools, fallbacks, the matched rule,
 * the system prompt), and, once the call is authorised, the system prompt applied to the body, before limits and
 * the cache read it.
 */
import type { PoolRuntime } from '../config/runtime.js';
import { GatewayError } from '../errors.js';
import type { CallMiddleware } from '../pipeline/middleware.js';
import type { ProxyCall } from '../pipeline/types.js';
import { requestFacts, withSystemPrompt } from '../protocols/clients.js';
import { type RouteCaller, type RoutePlan, resolveRoute } from './resolve.js';

/**
 * Creates the route stage. `identify` names the caller's tenant (rules may match it). A model nothing serves leaves
 * the call without a plan: the authorisation stage then gives the answer a caller may see (404, or 401 to a caller
 * without a key, so unknown callers cannot tell known models from unknown ones).
 */
export const resolveCallRoute = (identify: (call: ProxyCall) => RouteCaller | undefined): CallMiddleware =>
  async function resolveCallRoute(call, next) {
    if (!call.plan) {
      let plan: RoutePlan<PoolRuntime> | undefined;
      try {
        plan = resolveRoute(call.runtime, { model: call.model, header: call.header, caller: identify(call) });
      } catch (e) {
        if (!(e instanceof GatewayError) || e.status !== 404) throw e;
      }
      if (plan) call.plan = plan;
    }
    await next();
  };

/** Creates the stage applying the plan's system prompt to the request body (each protocol's `operations.ts`). */
export const applySystemPrompt = (): CallMiddleware =>
  async function applySystemPrompt(call, next) {
    const p = call.plan?.systemPrompt;
    if (p) {
      call.request = withSystemPrompt(call.request, p);
      const prompt = requestFacts(call.request).prompt;
      if (prompt !== undefined) call.prompt = prompt;
    }
    await next();
  };
