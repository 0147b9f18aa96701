/** Test and benchmark fixture: pool members over fake backends (no network). Not used by the proxy. */
import type { BackendConfig } from '../../../../shared/src/proxyconfig/index.js';
import type { PoolMember } from '../../endpoints/member.js';
import { EndpointState } from '../../endpoints/state.js';

/** A backend config with health checks off and the given max concurrency. */
export function fakeBackend(id = 'ns/b', maxConcurrency?: number): BackendConfig {
  return {
    id,
    provider: 'vllm',
    endpoints: [],
    models: { m: 'm' },
    headers: {},
    ...(maxConcurrency !== undefined ? { maxConcurrency } : {}),
    healthCheck: { enabled: false, intervalMs: 1000, timeoutMs: 500, healthyThreshold: 1, unhealthyThreshold: 2 },
    timeouts: { connectMs: 1000, firstByteMs: 1000, idleMs: 1000, totalMs: 1000 },
  };
}

/** One member per weight, each on its own endpoint `b/<i>`. */
export function fakeMembers(weights: readonly number[], backend = fakeBackend()): PoolMember[] {
  return weights.map((weight, i) => {
    const ep = { id: `b/${i}`, url: `http://10.0.0.${i % 250}:${8000 + i}/v1`, weight: 1 };
    return {
      endpoint: new EndpointState(EndpointState.keyOf(backend, ep), backend, ep),
      weight,
      target: { backend: backend.id, weight, priority: 0, upstreamModel: 'm' },
    };
  });
}
