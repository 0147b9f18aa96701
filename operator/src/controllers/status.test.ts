import { describe, expect, it } from 'vitest';
import { type Condition, type ProxyConfig, parseManifests, translate } from '../../../shared/src/index.js';
import { desiredBackendStatus } from './backend-status.js';
import { setConditions, transitions } from './conditions.js';
import { desiredPolicyStatus } from './policy-status.js';
import { desiredPoolStatus } from './pool-status.js';
import { fingerprints, ServingTracker } from './serving.js';
import type { TranslationState } from './status.js';

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

/** A translated snapshot of backends (one endpoint each, at `url`) and pools, all in namespace ns. */
function snapshotOf(opts: {
  backends?: string[];
  pools?: { name: string; model?: string; refs: { name: string; priority?: number }[] }[];
  url?: string;
}): ProxyConfig {
  const backends = (opts.backends ?? ['b']).map(
    (name) => `apiVersion: switchyard.dev/v1alpha1
kind: LLMBackend
metadata: { name: ${name}, namespace: ns }
spec: { provider: vllm, endpoints: [{ url: "${opts.url ?? 'http://x'}" }], models: [{ name: m }] }
`,
  );
  const pools = (opts.pools ?? [{ name: 'p', refs: [{ name: 'b' }] }]).map(
    (p) => `apiVersion: switchyard.dev/v1alpha1
kind: LLMPool
metadata: { name: ${p.name}, namespace: ns }
spec: { model: ${p.model ?? p.name}, backendRefs: ${JSON.stringify(p.refs)} }
`,
  );
  return translate(parseManifests([...backends, ...pools].join('---\n'))).config;
}

const config = snapshotOf({});

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
const ready = (s: { conditions: Condition[] }) => s.conditions.find((c) => c.type === 'Ready');
const byType = (s: { conditions: Condition[] }) => Object.fromEntries(s.conditions.map((c) => [c.type, c]));

describe('desired status', () => {
  it('reports replicas and Ready for a resolved backend, partial while replicas are missing', () => {
    const s = desiredBackendStatus(meta('b'), state(), T0);
    expect(s).toMatchObject({ readyReplicas: 1, totalReplicas: 3, replicas: '1/3', observedGeneration: 4 });
    const cond = byType(s);
    expect(cond.Ready).toMatchObject({ status: 'True', reason: 'PartiallyReady', observedGeneration: 4 });
    expect(cond.Ready?.message).toBe('1 of 3 replicas are ready.');
    expect(cond.ResolvedRefs?.status).toBe('True');
    const full = desiredBackendStatus(meta('b'), state({ replicas: new Map([['ns/b', { ready: 3, total: 3 }]]) }), T0);
    expect(ready(full)).toMatchObject({ status: 'True', reason: 'Ready' });
  });

  it('is not Ready while no proxy serves the resource as it is, nor with no proxy at all (0/0)', () => {
    const none = state({ proxies: { total: 2, serving: new Map() } });
    expect(ready(desiredPoolStatus(meta('p'), none, T0))).toMatchObject({
      status: 'False',
      reason: 'NotServedByProxies',
    });
    const empty = desiredPoolStatus(meta('p'), state({ proxies: { total: 0, serving: new Map() } }), T0);
    expect(ready(empty)).toMatchObject({ status: 'False', reason: 'NotServedByProxies' });
    expect(empty).toMatchObject({ proxiesInSync: '0/0' });
    const one = state({ proxies: { total: 2, serving: new Map([['LLMPool ns/p', 1]]) } });
    const s = desiredPoolStatus(meta('p'), one, T0);
    expect(ready(s)).toMatchObject({ status: 'True', reason: 'PartiallyReady' });
    expect(ready(s)?.message).toContain('1 of 2 proxies serve it');
    expect(s).toMatchObject({ proxiesInSync: '1/2' });
  });

  it('is not Ready when the preferred tier has no ready endpoint, though a failover tier has', () => {
    const refs = [
      { name: 'b', priority: 0 },
      { name: 'c', priority: 1 },
    ];
    const twoTiers = snapshotOf({ backends: ['b', 'c'], pools: [{ name: 'p', refs }] });
    const obj = { ...meta('p'), spec: { backendRefs: refs } };
    const down = state({ config: twoTiers, replicas: new Map([['ns/b', { ready: 0, total: 2 }]]) });
    expect(ready(desiredPoolStatus(obj, down, T0))).toMatchObject({
      status: 'False',
      reason: 'PreferredTierUnavailable',
    });
    // the preferred backend left out of the snapshot: its tier is still the preferred one
    const unresolved = state({ config: snapshotOf({ backends: ['c'], pools: [{ name: 'p', refs }] }) });
    expect(unresolved.config.pools[0]?.targets.map((t) => t.backend)).toEqual(['ns/c']);
    expect(ready(desiredPoolStatus(obj, unresolved, T0))?.reason).toBe('PreferredTierUnavailable');
  });

  it('turns a translation problem into ResolvedRefs=False naming the field', () => {
    const s = desiredPoolStatus(
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
    const cond = byType(s);
    expect(cond.ResolvedRefs).toMatchObject({ status: 'False', reason: 'BackendNotFound' });
    expect(cond.ResolvedRefs?.message).toContain('spec.backendRefs[1].name');
    expect(cond.Ready).toMatchObject({ status: 'True', reason: 'PartiallyReady' });
    expect(s).toMatchObject({ endpoints: '1/3', proxiesInSync: '2/2' });
  });

  it('marks an object zod rejected as Accepted=False with the field in the message; a policy has no Ready', () => {
    const s = desiredPolicyStatus(
      meta('r'),
      state({ invalid: [{ kind: 'RoutePolicy', namespace: 'ns', name: 'r', message: 'spec.rules: Too small' }] }),
      T0,
    );
    expect(s.conditions[0]).toMatchObject({ type: 'Accepted', status: 'False', reason: 'Invalid' });
    expect(s.conditions[0]?.message).toContain('spec.rules');
    expect(s.conditions.map((c) => c.type)).toEqual(['Accepted', 'ResolvedRefs']);
  });

  it('reports an API key two policies list on the newer one only: Accepted=False, ApiKeyConflict', () => {
    const policy = (name: string, created: string) => `
apiVersion: switchyard.dev/v1alpha1
kind: RoutePolicy
metadata: { name: ${name}, namespace: ns, creationTimestamp: "${created}" }
spec:
  rules: [{ match: { model: { value: m } } }]
  tenants: [{ name: t-${name}, apiKeys: [{ name: keys, key: k }] }]
---
`;
    const { config: cfg, problems } = translate(
      parseManifests(`apiVersion: v1
kind: Secret
metadata: { name: keys, namespace: ns }
stringData: { k: sk-same-key-0123 }
---
${policy('older', '2026-01-01T00:00:00Z')}${policy('newer', '2026-01-02T00:00:00Z')}`),
    );
    const statusOf = (name: string) => byType(desiredPolicyStatus(meta(name), state({ config: cfg, problems }), T0));
    expect(statusOf('older').Accepted).toMatchObject({ status: 'True' });
    const newer = statusOf('newer').Accepted;
    expect(newer).toMatchObject({ status: 'False', reason: 'ApiKeyConflict' });
    expect(newer?.message).toContain('spec.tenants[0].apiKeys[0]');
    expect(newer?.message).toContain('RoutePolicy ns/older tenant "t-older"');
    expect(newer?.message).not.toContain('sk-same-key');
  });

  it('a pool without ready endpoints is not Ready', () => {
    const s = desiredPoolStatus(meta('p'), state({ replicas: new Map([['ns/b', { ready: 0, total: 2 }]]) }), T0);
    expect(ready(s)).toMatchObject({ status: 'False', reason: 'NoReadyEndpoints' });
  });
});

describe('ServingTracker', () => {
  /** Pool p (model `poolModel`) on backend b at `url`, and pool q on a backend that does not exist. */
  const snap = (version: string, poolModel: string, url: string): ProxyConfig => ({
    ...snapshotOf({
      url,
      pools: [
        { name: 'p', model: poolModel, refs: [{ name: 'b' }] },
        { name: 'q', refs: [{ name: 'missing' }] },
      ],
    }),
    version,
  });

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
    expect(a).toBeDefined();
    expect(a).not.toBe(b);
  });

  it('forgets snapshots older than it keeps', () => {
    const t = new ServingTracker(2);
    for (const v of ['v1', 'v2', 'v3']) t.record(snap(v, 'm', 'http://x'));
    expect(t.count('v3', ['v1']).serving.size).toBe(0);
    expect(t.count('v3', ['v2']).serving.get('LLMPool ns/p')).toBe(1);
  });
});
