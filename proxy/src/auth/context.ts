/** What authentication decided for one call, read by the later governance stages (limits, cache). */
import type { ProxyCall } from '../pipeline/types.js';
import type { Identity, PolicyView, TenantConfig } from './directory.js';

export interface CallGovernance {
  /** The caller's identity when a known key was presented. */
  identity?: Identity | undefined;
  /** The RoutePolicy holding the caller's key. */
  own?: PolicyView | undefined;
  /** The caller's tenant entry there (models, limits, keyLimits). */
  tenant?: TenantConfig | undefined;
}

const contexts = new WeakMap<ProxyCall, CallGovernance>();

/** The governance context of `call` (empty before authentication ran). */
export function governanceOf(call: ProxyCall): CallGovernance {
  return contexts.get(call) ?? {};
}

export function setGovernance(call: ProxyCall, g: CallGovernance): void {
  contexts.set(call, g);
}
