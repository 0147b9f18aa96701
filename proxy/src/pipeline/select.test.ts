import { describe, expect, it } from 'vitest';
import { parseManifests } from '../../../shared/src/manifests/parse.js';
import { translate } from '../../../shared/src/translate/index.js';
import { poolManifests } from '../../../test/support/manifests.js';
import { compileRuntime, type PoolRuntime } from '../config/runtime.js';
import type { EndpointState } from '../endpoints/state.js';
import { selectMember } from './select.js';

const STRATEGIES = ['weighted-round-robin', 'least-connections', 'peak-ewma', 'random', 'llm-aware'] as const;

/** One pool of four replicas whose backend has active health checks (none has run yet: all `unknown`). */
function pool(strategy: (typeof STRATEGIES)[number]): { pool: PoolRuntime; endpoints: EndpointState[] } {
  const urls = [1, 2, 3, 4].map((i) => `http://127.0.0.1:${9000 + i}/v1`);
  const { config } = translate(
    parseManifests(poolManifests({ name: 'b', model: 'm', urls, poolSpec: `  scheduling: { strategy: ${strategy} }` })),
  );
  const rt = compileRuntime(config);
  const endpoints = [...rt.endpoints.values()];
  for (const e of endpoints) e.activelyChecked = true; // as the health checker marks the endpoints it watches
  return { pool: rt.pools.get('default/b-pool') as PoolRuntime, endpoints };
}

const NONE = new Set<EndpointState>();

describe('selectMember and endpoints not checked yet', () => {
  it.each(STRATEGIES)('%s: a checked healthy replica takes the traffic before unchecked ones', (strategy) => {
    const { pool: p, endpoints } = pool(strategy);
    const healthy = endpoints[2] as EndpointState;
    healthy.health = 'healthy';
    healthy.notify();
    for (let i = 0; i < 40; i++) {
      const m = selectMember(p, NONE, { now: Date.now(), prompt: `question ${i}` });
      expect(m?.endpoint).toBe(healthy);
    }
  });

  it.each(STRATEGIES)('%s: unchecked replicas still serve when nothing is checked yet', (strategy) => {
    const { pool: p, endpoints } = pool(strategy);
    const seen = new Set<EndpointState>();
    for (let i = 0; i < 40; i++) {
      const m = selectMember(p, NONE, { now: Date.now(), prompt: `question ${i}` });
      expect(m).toBeDefined();
      if (m) seen.add(m.endpoint);
    }
    expect([...seen].every((e) => endpoints.includes(e))).toBe(true);
  });

  it('an unchecked replica takes a retry when the checked one was already tried', () => {
    const { pool: p, endpoints } = pool('least-connections');
    const healthy = endpoints[0] as EndpointState;
    healthy.health = 'healthy';
    healthy.notify();
    const m = selectMember(p, new Set([healthy]), { now: Date.now() });
    expect(m?.endpoint).not.toBe(healthy);
    expect(m?.endpoint.health).toBe('unknown');
  });
});
