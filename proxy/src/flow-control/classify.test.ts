import { describe, expect, it } from 'vitest';
import type { PolicyConfig } from '../../../shared/src/proxyconfig/index.js';
import { authorizedCall, clientRequest, runtimeOf } from '../testing/calls.js';
import { classify, priorityOf } from './classify.js';

type TenantConfig = PolicyConfig['tenants'][number];

const tenant = (extra: Partial<TenantConfig> = {}): TenantConfig => ({
  name: 't',
  keyHashes: [],
  ...extra,
});
const caller = { policy: 'ns/p', tenant: 't' };
const headers =
  (h: Record<string, string>) =>
  (name: string): string | undefined =>
    h[name];

describe('classify', () => {
  it('takes the header only for classes the tenant may ask for, then the rule, then the tenant, then standard', () => {
    const t = tenant({ priority: 'sheddable', priorityHeader: { name: 'x-class', allowed: ['critical'] } });
    const input = { discipline: 'fair' as const, caller, tenant: t };
    expect(classify({ ...input, rule: 'standard', header: headers({ 'x-class': ' Critical ' }) })).toMatchObject({
      cls: 'critical',
      source: 'header',
    });
    // A class the policy does not allow, an unknown one or none: the header changes nothing.
    expect(classify({ ...input, rule: 'standard', header: headers({ 'x-class': 'sheddable' }) })).toMatchObject({
      cls: 'standard',
      source: 'rule',
    });
    expect(classify({ ...input, rule: undefined, header: headers({ 'x-class': 'urgent' }) })).toMatchObject({
      cls: 'sheddable',
      source: 'tenant',
    });
    expect(classify({ ...input, tenant: tenant(), rule: undefined, header: headers({}) })).toMatchObject({
      cls: 'standard',
      source: 'default',
    });
  });

  it('ignores the header of a tenant without priorityHeader, and flows per tenant with its weight', () => {
    const p = classify({
      discipline: 'fair',
      rule: undefined,
      caller,
      tenant: tenant({ weight: 3 }),
      header: headers({ 'x-switchyard-priority': 'critical' }),
    });
    expect(p).toEqual({ cls: 'standard', flow: 'ns/p/t', weight: 3, tenant: 't', source: 'default' });
    const anonymous = classify({
      discipline: 'fair',
      rule: 'critical',
      caller: undefined,
      tenant: undefined,
      header: headers({}),
    });
    expect(anonymous).toMatchObject({ cls: 'critical', flow: '', weight: 1, tenant: undefined });
  });

  it('gives everything the default priority with the fifo discipline', () => {
    const t = tenant({ priority: 'critical', weight: 5 });
    expect(classify({ discipline: 'fifo', rule: 'sheddable', caller, tenant: t, header: headers({}) })).toMatchObject({
      cls: 'standard',
      flow: '',
      weight: 1,
    });
  });
});

describe('priorityOf', () => {
  const runtime = runtimeOf(`
apiVersion: switchyard.dev/v1alpha1
kind: LLMBackend
metadata: { name: b }
spec: { provider: vllm, endpoints: [{ url: "http://127.0.0.1:9" }], models: [{ name: m }] }
---
apiVersion: switchyard.dev/v1alpha1
kind: LLMPool
metadata: { name: m }
spec: { model: m, backendRefs: [{ name: b }] }
---
apiVersion: switchyard.dev/v1alpha1
kind: RoutePolicy
metadata: { name: batch }
spec:
  rules: [{ match: { model: { value: m }, headers: [{ name: x-batch, value: "1" }] }, priority: sheddable }]
`);
  const request = clientRequest('chat', { model: 'm', messages: [{ role: 'user', content: 'hi' }] });

  it("applies the class of the rule whose conditions the request meets at the route's pool", () => {
    const pool = runtime.config.pools[0];
    if (!pool) throw new Error('no pool');
    expect(priorityOf(authorizedCall(runtime, request, { 'x-batch': '1' }), pool)).toMatchObject({
      cls: 'sheddable',
      source: 'rule',
    });
    expect(priorityOf(authorizedCall(runtime, request), pool)).toMatchObject({ cls: 'standard', source: 'default' });
  });
});
