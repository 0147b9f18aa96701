/**
 * The authorisation decision for one (caller, model) pair, shared by the authentication stage and the model lists:
 * resolve the route (rules may match on the tenant), then enforce the matched policy: `authRequired` (401), the
 * tenant's membership of the policy and its model allow-list (403). Pure: no hooks, no request state.
 */
import type { Runtime } from '../config/runtime.js';
import { errors, GatewayError } from '../errors.js';
import { type RoutePlan, resolveRoute } from '../routing/resolve.js';
import { hashKey, readApiKey } from './api-key.js';
import { type Directory, directoryFor, type Identity, type PolicyView, type TenantConfig } from './directory.js';
import { authErrors } from './errors.js';
import { modelAllowed } from './model-access.js';

export type DenialOutcome = 'missing_key' | 'invalid_key' | 'forbidden';

/** A refused request: the error to answer and the outcome to report. */
export class AuthDenial extends Error {
  constructor(
    readonly error: GatewayError,
    readonly outcome: DenialOutcome,
  ) {
    super(error.message);
  }
}

/** Who is calling: the presented key (if any) resolved against the snapshot's key hashes. */
export interface Caller {
  dir: Directory;
  key: string | undefined;
  identity: Identity | undefined;
}

export interface Authorized {
  /** The route with fallbacks outside the tenant's allow-list removed. */
  plan: RoutePlan;
  policy: PolicyView | undefined;
  tenant: TenantConfig | undefined;
}

/** The caller presenting the headers read by `header`. */
export function callerOf(runtime: Runtime, header: (name: string) => string | undefined): Caller {
  const dir = directoryFor(runtime.config);
  const key = readApiKey(header);
  return { dir, key, identity: key === undefined ? undefined : dir.identify(hashKey(key)) };
}

/** The 401 for a caller without a valid key. */
function unauthenticated(caller: Caller): AuthDenial {
  return caller.key === undefined
    ? new AuthDenial(authErrors.missingKey(), 'missing_key')
    : new AuthDenial(authErrors.invalidKey(), 'invalid_key');
}

/**
 * Decides whether `caller` may call `model`; throws an AuthDenial (401/403), or the route's own GatewayError (404
 * unknown model — a 401 instead for a caller without a valid key when keys are required somewhere, so unknown
 * callers learn nothing about which models exist).
 */
export function authorize(
  runtime: Runtime,
  caller: Caller,
  model: string,
  header: (name: string) => string | undefined,
  resolved?: RoutePlan,
): Authorized {
  const { dir, identity } = caller;
  let plan: RoutePlan;
  try {
    plan = resolved ?? resolveRoute(runtime, { model, header, tenant: identity?.tenant });
  } catch (e) {
    if (e instanceof GatewayError && e.status === 404 && !identity && dir.anyAuthRequired)
      throw unauthenticated(caller);
    throw e;
  }
  const policy = plan.route ? dir.policy(plan.route.policy) : undefined;
  const tenant = identity && policy ? policy.tenants.get(identity.tenant) : undefined;
  if (policy) {
    const p = policy.config;
    if (p.authRequired && !identity) throw unauthenticated(caller);
    if (identity && p.authRequired && p.tenants.length > 0 && !tenant)
      throw new AuthDenial(authErrors.routeForbidden(identity.tenant, model), 'forbidden');
    const models = tenant?.models;
    if (identity && models) {
      if (!mayUseModel(models, model, plan))
        throw new AuthDenial(authErrors.modelForbidden(identity.tenant, model), 'forbidden');
      // The fallback chain must not take the tenant to pools outside its allow-list: those are skipped.
      const [primary, ...fallbacks] = plan.pools;
      const allowed = fallbacks.filter((f) => mayUsePool(models, f.config));
      if (primary && allowed.length !== fallbacks.length) plan = { ...plan, pools: [primary, ...allowed] };
    }
  }
  return { plan, policy, tenant };
}

/** A tenant may use the requested model, or the pool that serves it (by its model name, id or name). */
function mayUseModel(patterns: readonly string[], model: string, plan: RoutePlan): boolean {
  if (modelAllowed(patterns, model) || modelAllowed(patterns, plan.publicModel)) return true;
  const pool = plan.pools[0]?.config;
  return pool !== undefined && mayUsePool(patterns, pool);
}

/** A tenant may use a pool named by its model name, id (`namespace/name`) or name. */
function mayUsePool(patterns: readonly string[], pool: { id: string; model: string }): boolean {
  const name = pool.id.slice(pool.id.indexOf('/') + 1);
  return modelAllowed(patterns, pool.model) || modelAllowed(patterns, pool.id) || modelAllowed(patterns, name);
}

/**
 * The models a model list shows the caller: those it may call, sorted (none before the first snapshot). A presented
 * key that is not valid, or a caller without a key who may call nothing, gets the 401 instead (when keys are
 * required somewhere), like OpenAI's list.
 */
export function listModels(runtime: Runtime | undefined, header: (name: string) => string | undefined): string[] {
  if (!runtime) return [];
  const caller = callerOf(runtime, header);
  const required = caller.dir.anyAuthRequired;
  if (required && caller.key !== undefined && !caller.identity) throw unauthenticated(caller).error;
  const models = [...runtime.models.keys()].filter((m) => {
    try {
      authorize(runtime, caller, m, header);
      return true;
    } catch {
      return false;
    }
  });
  if (required && models.length === 0 && !caller.identity) throw unauthenticated(caller).error;
  return models.sort();
}

/**
 * Throws the 401/403/404 a caller would get for `model` (404 before the first snapshot), so one model's entry is
 * shown only to who may call it.
 */
export function assertModelVisible(
  runtime: Runtime | undefined,
  header: (name: string) => string | undefined,
  model: string,
): void {
  if (!runtime) throw errors.modelNotFound(model);
  try {
    authorize(runtime, callerOf(runtime, header), model, header);
  } catch (e) {
    throw e instanceof AuthDenial ? e.error : e;
  }
}
