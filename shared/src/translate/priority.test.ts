import { describe, expect, it } from 'vitest';
import { poolManifests } from '../../../test/support/manifests.js';
import { parseManifests } from '../manifests/parse.js';
import { proxyConfig } from '../proxyconfig/index.js';
import { translate } from './index.js';

const manifests = (scheduling: string, tenants = '', rules = '[{ match: { model: { value: m } } }]') => `
apiVersion: v1
kind: Secret
metadata: { name: keys, namespace: ns }
stringData: { a: sk-prio-a-000000001, b: sk-prio-b-000000002 }
---
${poolManifests({ model: 'm', urls: ['http://127.0.0.1:8001'], name: 'vllm', namespace: 'ns', poolSpec: scheduling })}---
apiVersion: switchyard.dev/v1alpha1
kind: RoutePolicy
metadata: { name: p, namespace: ns }
spec:
  rules: ${rules}
  tenants:
    - { name: a, apiKeys: [{ name: keys, key: a }] }
${tenants}
`;

describe('translate: priority classes and overload', () => {
  it('fills the queue and overload defaults: fair, critical waits like standard, sheddable not at all', () => {
    const { config, problems } = translate(parseManifests(manifests('')));
    expect(problems).toEqual([]);
    expect(proxyConfig.safeParse(config).success).toBe(true);
    const s = config.pools[0]?.scheduling;
    expect(s?.queue).toEqual({
      maxSize: 100,
      timeoutMs: 30_000,
      discipline: 'fair',
      criticalTimeoutMs: 30_000,
      sheddableTimeoutMs: 0,
    });
    // Shedding on the replicas' saturation reads scraped metrics: on by default only where llm-aware scrapes them.
    expect(s?.overload).toEqual({ criticalReserve: 0, shedOnSaturation: false });
    const llmAware = translate(parseManifests(manifests('  scheduling: { strategy: llm-aware }')));
    expect(llmAware.config.pools[0]?.scheduling.overload?.shedOnSaturation).toBe(true);
    const tenant = config.policies[0]?.tenants[0];
    expect(tenant && ('priority' in tenant || 'weight' in tenant || 'priorityHeader' in tenant)).toBe(false);
  });

  it('carries per-class timeouts, the discipline, the reserve, rule and tenant classes, weights and headers', () => {
    const scheduling = `  scheduling:
    queue: { maxSize: 10, timeout: 5s, discipline: fifo, classes: { critical: { timeout: 1m }, sheddable: { timeout: 2s } } }
    overload: { criticalReserve: 0.25, shedOnSaturation: true }`;
    const tenants = `    - name: b
      apiKeys: [{ name: keys, key: b }]
      priority: critical
      weight: 4
      priorityHeader: { name: X-Class, allowed: [sheddable] }
    - { name: c, apiKeys: [], priorityHeader: { allowed: [critical] } }`;
    const rules = '[{ match: { model: { value: m }, headers: [{ name: x-batch, value: "1" }] }, priority: sheddable }]';
    const { config, problems } = translate(parseManifests(manifests(scheduling, tenants, rules)));
    expect(problems).toEqual([]);
    expect(proxyConfig.safeParse(config).success).toBe(true);
    const s = config.pools[0]?.scheduling;
    expect(s?.queue).toEqual({
      maxSize: 10,
      timeoutMs: 5000,
      discipline: 'fifo',
      criticalTimeoutMs: 60_000,
      sheddableTimeoutMs: 2000,
    });
    expect(s?.overload).toEqual({ criticalReserve: 0.25, shedOnSaturation: true });
    const policy = config.policies[0];
    expect(config.routes[0]?.priority).toBe('sheddable');
    expect(policy?.tenants[1]).toMatchObject({
      name: 'b',
      priority: 'critical',
      weight: 4,
      priorityHeader: { name: 'x-class', allowed: ['sheddable'] },
    });
    expect(policy?.tenants[2]?.priorityHeader).toEqual({ name: 'x-switchyard-priority', allowed: ['critical'] });
  });

  it('refuses an unknown class, a reserve above 0.9 and a weight of 0 at admission', () => {
    expect(() => parseManifests(manifests('  scheduling: { overload: { criticalReserve: 0.95 } }'))).toThrow(
      /criticalReserve/,
    );
    expect(() =>
      parseManifests(manifests('', '    - { name: b, apiKeys: [{ name: keys, key: b }], priority: urgent }')),
    ).toThrow(/priority/);
    expect(() =>
      parseManifests(manifests('', '    - { name: b, apiKeys: [{ name: keys, key: b }], weight: 0 }')),
    ).toThrow(/weight/);
  });
});
