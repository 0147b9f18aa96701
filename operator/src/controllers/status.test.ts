import { describe, expect, it } from 'vitest';
import type { Condition, ProxyConfig } from '../../../shared/src/index.js';
import { setConditions, transitions } from './conditions.js';
import { fingerprints, ServingTracker } from './serving.js';
import { desiredStatus, type TranslationState } from './status.js';

const T0 = new Date('2026-01-01T00:00:00Z');
const T1 = new Date('2026-01-01T00:05:00Z');

describe('setConditions', () => {
  it('keeps lastTransitionTime while the status is unchanged and moves it on a change', () => {
    const a = setConditions(undefined, [{ type: 'Ready', status: 'True', reason: 'Ready', message: 'ok' }], 1, T0);
    const b = setConditions(a, [{ type: 'Ready', status: 'True', reason: 'Ready', message: 'still ok' }], 2, T1);
    expect(b[0]).toMatchObject({
      lastTransitionTime: '2026-01-01T00:00:00Z',
      observedGeneration: 2,
      message: 'still ok',
    });
    const c = setConditions(b, [{ type: 'Ready', status: 'False', reason: 'Down', message: 'no' }], 2, T1);
    expect(c[0]?.lastTransitionTime).toBe('2026-01-01T00:05:00Z');
  });

  it('orders conditions and reports transitions', () => {
    const before = setConditions(undefined, [{ type: 'Ready', status: 'True', reason: 'Ready', message: '' }], 1, T0);
    const after = setConditions(
      before,
      [
        { type: 'Ready', status: 'False', reason: 'NoReadyEndpoints', message: '' },
        { type: 'Accepted', status: 'True', reason: 'Accepted', message: '' },
      ],
      1,
      T1,
      ['Accepted', 'Ready'],
    );
    expect(after.map((c) => c.type)).toEqual(['Accepted', 'Ready']);
    expect(transitions(before, after).map((c: Condition) => c.type)).toEqual(['Ready']);
  });
});

const config = {
  schemaVersion: 1,
  version: '0123456789abcdef',
  generatedAt: T0.toISOString(),
  backends: [{ id: 'ns/b', endpoints: [{ id: 'b/p1', url: 'http://x', weight: 1 }] }],
  pools: [{ id: 'ns/p', targets: [{ backend: 'ns/b', weight: 1, priority: 0, upstreamModel: 'm' }] }],
  routes: [],
  policies: [],
} as unknown as ProxyConfig;

const state = (over: Partial<TranslationState> = {}): TranslationState => ({
  config,
  problems: [],
  invalid: [],
  replicas: new Map([['ns/b', { ready: 1, total: 3 }]]),
  proxies: {
    total: 2,
    serving: new Map([
      ['LLMPool ns/p', 2],
      ['LLMBackend ns/b', 2],
    ]),
  },
  ...over,
});

const meta = (name: string) => ({ metadata: { name, namespace: 'ns', generation: 4 } });
const ready = (s: Record<string, unknown>) => (s.conditions as Condition[]).find((c) => c.type === 'Ready');

describe('desiredStatus', () => {
  it('reports replicas and Ready for a resolved backend, partial while replicas are missing', () => {
    const s = desiredStatus('LLMBackend', meta('b'), state(), T0);
    expect(s).toMatchObject({ readyReplicas: 1, totalReplicas: 3, replicas: '1/3', observedGeneration: 4 });
    const cond = Object.fromEntries((s.conditions as Condition[]).map((c) => [c.type, c]));
    expect(cond.Ready).toMatchObject({ status: 'True', reason: 'PartiallyReady', observedGeneration: 4 });
    expect(cond.Ready?.message).toBe('1 of 3 replicas are ready.');
    expect(cond.ResolvedRefs?.status).toBe('True');
    const full = desiredStatus(
      'LLMBackend',
      meta('b'),
      state({ replicas: new Map([['ns/b', { ready: 3, total: 3 }]]) }),
      T0,
    );
    expect(ready(full)).toMatchObject({ status: 'True', reason: 'Ready' });
  });

  it('is not Ready while no proxy serves the resource as it is, nor with no proxy at all (0/0)', () => {
    const none = state({ proxies: { total: 2, serving: new Map() } });
    expect(ready(desiredStatus('LLMPool', meta('p'), none, T0))).toMatchObject({
      status: 'False',
      reason: 'NotServedByProxies',
    });
    const empty = desiredStatus('LLMPool', meta('p'), state({ proxies: { total: 0, serving: new Map() } }), T0);
    expect(ready(empty)).toMatchObject({ status: 'False', reason: 'NotServedByProxies' });
    expect(empty).toMatchObject({ proxiesInSync: '0/0' });
    const one = state({ proxies: { total: 2, serving: new Map([['LLMPool ns/p', 1]]) } });
    const s = desiredStatus('LLMPool', meta('p'), one, T0);
    expect(ready(s)).toMatchObject({ status: 'True', reason: 'PartiallyReady' });
    expect(ready(s)?.message).toContain('1 of 2 proxies serve it');
    expect(s).toMatchObject({ proxiesInSync: '1/2' });
  });

  it('is not Ready when the preferred tier has no ready endpoint, though a failover tier has', () => {
    const twoTiers = {
      ...config,
      backends: [...config.backends, { id: 'ns/c', endpoints: [{ id: 'c/p1', url: 'http://y', weight: 1 }] }],
      pools: [
        {
          id: 'ns/p',
          targets: [
            { backend: 'ns/b', weight: 1, priority: 0, upstreamModel: 'm' },
            { backend: 'ns/c', weight: 1, priority: 1, upstreamModel: 'm' },
          ],
        },
      ],
    } as unknown as ProxyConfig;
    const obj = { ...meta('p'), spec: { backendRefs: [{ priority: 0 }, { priority: 1 }] } };
    const down = state({ config: twoTiers, replicas: new Map([['ns/b', { ready: 0, total: 2 }]]) });
    expect(ready(desiredStatus('LLMPool', obj, down, T0))).toMatchObject({
      status: 'False',
      reason: 'PreferredTierUnavailable',
    });
    // the preferred backend unresolved (left out of the snapshot): its tier is still the preferred one
    const unresolved = state({
      config: {
        ...twoTiers,
        pools: [{ ...twoTiers.pools[0], targets: [twoTiers.pools[0]!.targets[1]] }],
      } as ProxyConfig,
    });
    expect(ready(desiredStatus('LLMPool', obj, unresolved, T0))?.reason).toBe('PreferredTierUnavailable');
  });

  it('turns a translation problem into ResolvedRefs=False naming the field', () => {
    const s = desiredStatus(
      'LLMPool',
      meta('p'),
      state({
        problems: [
          {
            kind: 'LLMPool',
            namespace: 'ns',
            name: 'p',
            field: 'spec.backendRefs[1].name',
            reason: 'BackendNotFound',
            message: 'LLMBackend ns/missing does not exist',
            condition: 'ResolvedRefs',
          },
        ],
      }),
      T0,
    );
    const cond = Object.fromEntries((s.conditions as Condition[]).map((c) => [c.type, c]));
    expect(cond.ResolvedRefs).toMatchObject({ status: 'False', reason: 'BackendNotFound' });
    expect(cond.ResolvedRefs?.message).toContain('spec.backendRefs[1].name');
    expect(cond.Ready).toMatchObject({ status: 'True', reason: 'PartiallyReady' });
    expect(s).toMatchObject({ endpoints: '1/3', proxiesInSync: '2/2' });
  });

  it('marks an object zod rejected as Accepted=False with the field in the message', () => {
    const s = desiredStatus(
      'RoutePolicy',
      meta('r'),
      state({ invalid: [{ kind: 'RoutePolicy', namespace: 'ns', name: 'r', message: 'spec.rules: Too small' }] }),
      T0,
    );
    expect((s.conditions as Condition[])[0]).toMatchObject({ type: 'Accepted', status: 'False', reason: 'Invalid' });
    expect((s.conditions as Condition[])[0]?.message).toContain('spec.rules');
  });

  it('a pool without ready endpoints is not Ready', () => {
    const s = desiredStatus('LLMPool', meta('p'), state({ replicas: new Map([['ns/b', { ready: 0, total: 2 }]]) }), T0);
    expect((s.conditions as Condition[]).find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'NoReadyEndpoints',
    });
  });
});

describe('ServingTracker', () => {
  const snap = (version: string, poolModel: string, endpointUrl: string) =>
    ({
      ...config,
      version,
      backends: [{ id: 'ns/b', endpoints: [{ id: 'b/p1', url: endpointUrl, weight: 1 }] }],
      pools: [
        { ...config.pools[0], model: poolModel },
        { id: 'ns/q', model: 'q', targets: [] },
      ],
    }) as unknown as ProxyConfig;

  it('counts a proxy for a resource when the snapshot it serves holds that resource unchanged', () => {
    const t = new ServingTracker();
    const v1 = snap('v1', 'm', 'http://x');
    const v2 = snap('v2', 'm2', 'http://x'); // pool p changed, q and b did not
    t.record(v1);
    t.record(v2);
    const c = t.count('v2', ['v1', 'v2', undefined, 'unknown']);
    expect(c.total).toBe(4);
    expect(c.serving.get('LLMPool ns/p')).toBe(1);
    expect(c.serving.get('LLMPool ns/q')).toBe(2);
    expect(c.serving.get('LLMBackend ns/b')).toBe(2);
  });

  it('fingerprints a pool with the backends it targets', () => {
    const a = fingerprints(snap('v1', 'm', 'http://x')).get('LLMPool ns/p');
    const b = fingerprints(snap('v2', 'm', 'http://moved')).get('LLMPool ns/p');
    expect(a).not.toBe(b);
  });

  it('forgets snapshots older than it keeps', () => {
    const t = new ServingTracker(2);
    for (const v of ['v1', 'v2', 'v3']) t.record(snap(v, 'm', 'http://x'));
    expect(t.count('v3', ['v1']).serving.size).toBe(0);
    expect(t.count('v3', ['v2']).serving.get('LLMPool ns/p')).toBe(1);
  });
});
