/**
 * The authorisation decision for one (caller, model) pair, shared by the authentication stage and the model lists.
 * Route resolution comes first (routing/resolve.ts); the decision then follows the pools resolved, never the name
 * that led there: a pool that policies cover is reachable only under their protection (a key when one of them
 * requires it, from a tenant it admits), a pool none covers is open or closed by the proxy's default access, and a
 * tenant's model allow-list applies to the pools its own policy covers. Every pool of a split must admit the caller; fallbacks
 * that do not are left out of the plan. Pure: no hooks, no request state.
 */
import type { PoolConfig } from '../../../shared/src/proxyconfig/index.js';
import type { Directory, Identity, PolicyView, TenantConfig } from '../config/directory.js';
import type { RoutePlan } from '../config/routes.js';
import type { PoolRuntime, Runtime } from '../config/runtime.js';
import { errors, GatewayError } from '../errors.js';
import { resolveRoute, type SplitPick } from '../routing/resolve.js';
import { hashKey, readApiKey } from './api-key.js';
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
  /** The route with the fallbacks the caller may not reach removed. */
  plan: RoutePlan<PoolRuntime>;
  /** The policy holding the caller's key. */
  own: PolicyView | undefined;
  /** The caller's tenant entry there (models, limits, keyLimits). */
  tenant: TenantConfig | undefined;
}

/** The caller presenting the headers read by `header`. */
export function callerOf(runtime: Runtime, header: (name: string) => string | undefined): Caller {
  const dir = runtime.directory;
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
 * What a caller without a valid key gets for a model it may not know about: the answer an unknown model gets (401
 * while some policy requires keys, else 404), so a known and an unknown model cannot be told apart.
 */
function hidden(caller: Caller, model: string): AuthDenial | GatewayError {
  return caller.dir.anyAuthRequired ? unauthenticated(caller) : errors.modelNotFound(model);
}

/** A tenant may use a pool named by its model name, an alias, its id (`namespace/name`) or its name. */
function mayUsePool(patterns: readonly string[], pool: PoolConfig): boolean {
  const name = pool.id.slice(pool.id.indexOf('/') + 1);
  return [pool.model, ...pool.aliases, pool.id, name].some((n) => modelAllowed(patterns, n));
}

/**
 * Why `caller` may not have `pool` serve a request for `model` (undefined: it may). `allowedByName`: the tenant's
 * allow-list already admits the name it asked for.
 */
function poolDenial(
  runtime: Runtime,
  caller: Caller,
  tenant: TenantConfig | undefined,
  pool: PoolRuntime,
  model: string,
  allowedByName: boolean,
): AuthDenial | GatewayError | undefined {
  const { dir, identity } = caller;
  const covering = dir.covering(pool.config.id);
  if (covering.length === 0 && runtime.defaultAccess === 'deny')
    return identity
      ? new AuthDenial(authErrors.modelNotCovered(identity.tenant, model), 'forbidden')
      : hidden(caller, model);
  const protecting = covering.filter((p) => p.config.authRequired);
  if (protecting.length > 0) {
    if (!identity) return unauthenticated(caller);
    // A protecting policy admits its own tenants; one without tenants admits every valid key.
    if (!protecting.some((p) => p.config.id === identity.policy || p.tenants.size === 0))
      return new AuthDenial(authErrors.routeForbidden(identity.tenant, model), 'forbidden');
  }
  // A tenant's allow-list speaks for the pools its own policy covers.
  const models = tenant?.models;
  const own = identity && covering.some((p) => p.config.id === identity.policy);
  if (own && models && !allowedByName && !mayUsePool(models, pool.config))
    return new AuthDenial(authErrors.modelForbidden(identity.tenant, model), 'forbidden');
  return undefined;
}

/**
 * Decides whether `caller` may call `model`; throws an AuthDenial (401/403), or a GatewayError (404 unknown model —
 * a 401 instead for a caller without a valid key while keys are required somewhere, so unknown callers learn nothing
 * about which models exist). `resolved`: the plan when the route was resolved already; `pick`: how a split is
 * decided when it is not ('first' for visibility checks, which must not advance a split).
 */
export function authorize(
  runtime: Runtime,
  caller: Caller,
  model: string,
  header: (name: string) => string | undefined,
  resolved?: RoutePlan<PoolRuntime>,
  pick: SplitPick = 'next',
): Authorized {
  const { dir, identity } = caller;
  let plan: RoutePlan<PoolRuntime>;
  try {
    plan = resolved ?? resolveRoute(runtime, { model, header, caller: identity }, pick);
  } catch (e) {
    if (e instanceof GatewayError && e.status === 404 && !identity) {
      const h = hidden(caller, model);
      throw h instanceof AuthDenial ? h : e;
    }
    throw e;
  }
  const own = identity ? dir.policy(identity.policy) : undefined;
  const tenant = identity ? own?.tenants.get(identity.tenant) : undefined;
  const models = tenant?.models;
  const byName = models !== undefined && (modelAllowed(models, model) || modelAllowed(models, plan.publicModel));
  const [primary, ...fallbacks] = plan.pools;
  for (const p of new Set([...plan.candidates, ...(primary ? [primary] : [])])) {
    const denied = poolDenial(runtime, caller, tenant, p, model, byName);
    if (denied) throw denied;
  }
  const reachable = fallbacks.filter((f) => poolDenial(runtime, caller, tenant, f, model, false) === undefined);
  if (primary && reachable.length !== fallbacks.length) plan = { ...plan, pools: [primary, ...reachable] };
  return { plan, own, tenant };
}

/** Every name a client can call: pool model names and aliases, and the exact names of rules with their own pools. */
function callableNames(runtime: Runtime): Set<string> {
  const names = new Set(runtime.models.keys());
  for (const r of runtime.routes) {
    const m = r.config.match.model;
    if (m?.type === 'Exact' && r.config.splits.length > 0) names.add(m.value);
  }
  return names;
}

/**
 * The models a model list shows the caller: exactly those it may call, sorted (none before the first snapshot). A
 * presented key that is not valid, or a caller without a key who may call nothing, gets the 401 instead (when keys
 * are required somewhere), like OpenAI's list.
 */
export function listModels(runtime: Runtime | undefined, header: (name: string) => string | undefined): string[] {
  if (!runtime) return [];
  const caller = callerOf(runtime, header);
  const required = caller.dir.anyAuthRequired;
  if (required && caller.key !== undefined && !caller.identity) throw unauthenticated(caller).error;
  const models = [...callableNames(runtime)].filter((m) => {
    try {
      authorize(runtime, caller, m, header, undefined, 'first');
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
    authorize(runtime, callerOf(runtime, header), model, header, undefined, 'first');
  } catch (e) {
    throw e instanceof AuthDenial ? e.error : e;
  }
}
