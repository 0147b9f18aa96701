/** An endpoint as a member of a pool. */
import type { PoolTargetConfig } from '../../../shared/src/proxyconfig/index.js';
import type { EndpointState } from './state.js';

/** One endpoint as a member of a pool: its effective weight there and the target it came from. */
export interface PoolMember {
  endpoint: EndpointState;
  weight: number;
  target: PoolTargetConfig;
}
