import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/clock.js';
import type { KubeClient, RequestOptions } from '../k8s/client.js';
import { EventRecorder } from '../k8s/events.js';
import type { CustomObject, Event } from '../k8s/objects.js';
import { createOperatorMetrics } from '../metrics.js';
import { Pusher } from '../push/pusher.js';
import { WorkQueue } from '../runtime/workqueue.js';
import { controllerOf, SNAPSHOT_KEY, SwitchyardController, statusKey } from './controller.js';

const client: KubeClient = {
  request: () => Promise.reject(new Error('no apiserver in this test')),
  watch: async () => {},
};

describe('SwitchyardController metrics', () => {
  it('names the controller of each key', () => {
    expect(controllerOf(SNAPSHOT_KEY)).toBe('snapshot');
    expect(controllerOf(statusKey('LLMBackend', { metadata: { name: 'b', namespace: 'ns' } }))).toBe('llmbackend');
    expect(controllerOf('status/LLMPool/ns/p')).toBe('llmpool');
    expect(controllerOf('status/RoutePolicy/ns/r')).toBe('routepolicy');
    expect(controllerOf('status/Nope/ns/r')).toBe('unknown');
  });

  it('counts reconciles by controller and result', async () => {
    const metrics = createOperatorMetrics();
    const queue = new WorkQueue();
    const pusher = new Pusher({ token: () => 't', resyncIntervalMs: 0 });
    const empty = () => [];
    const controllerOver = (backends: () => never[]) =>
      new SwitchyardController({
        client,
        cache: {
          backends,
          pools: empty,
          policies: empty,
          services: empty,
          slices: empty,
          get: () => undefined,
        },
        queue,
        pusher,
        secrets: { secrets: async () => [] },
        metrics,
      });
    const controller = controllerOver(empty);
    await controller.reconcile(SNAPSHOT_KEY);
    await controller.reconcile('status/LLMPool/ns/gone'); // deleted meanwhile: nothing to do, ok
    const broken = controllerOver(() => {
      throw new Error('cache broken');
    });
    await expect(broken.reconcile(SNAPSHOT_KEY)).rejects.toThrow('cache broken');
    const values = (await metrics.reconciles.get()).values.map(
      (v) => `${v.labels.controller} ${v.labels.result} ${v.value}`,
    );
    expect(values.sort()).toEqual(['llmpool ok 1', 'snapshot error 1', 'snapshot ok 1']);
    pusher.stop();
    queue.shutDown();
  });
});

/** An apiserver that stores status writes and events; it answers a status PUT with the object it was sent. */
function statusServer() {
  const writes: { path: string; status: unknown }[] = [];
  const events: Event[] = [];
  const client: KubeClient = {
    async request<T>(method: string, path: string, opts?: RequestOptions): Promise<T> {
      const body = opts?.body as (CustomObject & Event) | undefined;
      if (method === 'PUT' && path.endsWith('/status') && body) writes.push({ path, status: body.status });
      else if (method === 'POST' && path.endsWith('/events') && body) events.push(body);
      else throw new Error(`unexpected ${method} ${path}`);
      return body as T;
    },
    watch: async () => {},
  };
  return { client, writes, events };
}

describe('SwitchyardController reconcilers', () => {
  it('one snapshot reconcile queues a status key per resource; each kind writes its own status once', async () => {
    const clock = new FakeClock();
    const api = statusServer();
    const backend: CustomObject = {
      apiVersion: 'switchyard.dev/v1alpha1',
      kind: 'LLMBackend',
      metadata: { name: 'b', namespace: 'ns', generation: 1 },
      spec: { provider: 'vllm', endpoints: [{ url: 'http://10.0.0.1:8000' }], models: [{ name: 'm' }] },
    };
    const pool: CustomObject = {
      apiVersion: 'switchyard.dev/v1alpha1',
      kind: 'LLMPool',
      metadata: { name: 'p', namespace: 'ns', generation: 2 },
      spec: { model: 'm', backendRefs: [{ name: 'b' }, { name: 'gone' }] },
    };
    const policy: CustomObject = {
      apiVersion: 'switchyard.dev/v1alpha1',
      kind: 'RoutePolicy',
      metadata: { name: 'r', namespace: 'ns', generation: 3 },
      spec: { rules: [{ match: { model: { value: 'm' } } }] },
    };
    const byKind = { LLMBackend: backend, LLMPool: pool, RoutePolicy: policy };
    const queue = new WorkQueue({ clock });
    const pusher = new Pusher({ token: () => 't', resyncIntervalMs: 0, clock });
    const controller = new SwitchyardController({
      client: api.client,
      cache: {
        backends: () => [backend],
        pools: () => [pool],
        policies: () => [policy],
        services: () => [],
        slices: () => [],
        get: (kind, key) => (key === `ns/${byKind[kind].metadata.name}` ? byKind[kind] : undefined),
      },
      queue,
      pusher,
      secrets: { secrets: async () => [] },
      events: new EventRecorder(api.client, 'test'),
      clock,
    });
    await controller.reconcile(SNAPSHOT_KEY);
    const keys: string[] = [];
    while (queue.length > 0) keys.push((await queue.get()) as string);
    expect(keys).toEqual(['status/LLMBackend/ns/b', 'status/LLMPool/ns/p', 'status/RoutePolicy/ns/r']);
    for (const key of keys) await controller.reconcile(key);
    expect(api.writes.map((w) => w.path)).toEqual([
      '/apis/switchyard.dev/v1alpha1/namespaces/ns/llmbackends/b/status',
      '/apis/switchyard.dev/v1alpha1/namespaces/ns/llmpools/p/status',
      '/apis/switchyard.dev/v1alpha1/namespaces/ns/routepolicies/r/status',
    ]);
    expect(api.writes[1]?.status).toMatchObject({
      observedGeneration: 2,
      conditions: [
        { type: 'Accepted', status: 'True' },
        { type: 'ResolvedRefs', status: 'False', reason: 'BackendNotFound' },
        { type: 'Ready', status: 'False', reason: 'NotServedByProxies' },
      ],
    });
    // every condition that is not True on a first write is an Event on its object
    expect(api.events.map((e) => `${e.involvedObject.kind}/${e.involvedObject.name} ${e.reason}`).sort()).toEqual([
      'LLMBackend/b NotServedByProxies',
      'LLMPool/p BackendNotFound',
      'LLMPool/p NotServedByProxies',
    ]);
    // level-based: reconciling again with the status already written changes nothing
    for (const o of Object.values(byKind))
      o.status = api.writes.find((w) => w.path.includes(`/${o.metadata.name}/`))?.status;
    for (const key of keys) await controller.reconcile(key);
    expect(api.writes).toHaveLength(3);
    pusher.stop();
    queue.shutDown();
  });
});
