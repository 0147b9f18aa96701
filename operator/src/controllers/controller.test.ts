import { describe, expect, it } from 'vitest';
import type { KubeClient } from '../k8s/client.js';
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
