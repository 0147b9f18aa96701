import { describe, expect, it } from 'vitest';
import type { Condition, ProxyConfig } from '../../../shared/src/index.js';
import { setConditions, transitions } from './conditions.js';
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
  proxies: { inSync: 2, total: 2 },
  ...over,
});

const meta = (name: string) => ({ metadata: { name, namespace: 'ns', generation: 4 } });

describe('desiredStatus', () => {
  it('reports replicas and Ready for a resolved backend', () => {
    const s = desiredStatus('LLMBackend', meta('b'), state(), T0);
    expect(s).toMatchObject({ readyReplicas: 1, totalReplicas: 3, replicas: '1/3', observedGeneration: 4 });
    const cond = Object.fromEntries((s.conditions as Condition[]).map((c) => [c.type, c]));
    expect(cond.Ready).toMatchObject({ status: 'True', observedGeneration: 4 });
    expect(cond.ResolvedRefs?.status).toBe('True');
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
