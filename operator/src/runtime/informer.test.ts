import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/clock.js';
import { waitFor } from '../../../test/support/wait.js';
import { ApiError, type KubeClient, type RequestOptions, type WatchEvent } from '../k8s/client.js';
import type { KubeObject, List } from '../k8s/objects.js';
import { SERVICES } from '../k8s/resources.js';
import { Informer } from './informer.js';

const obj = (name: string, rv: string): KubeObject => ({ metadata: { name, namespace: 'ns', resourceVersion: rv } });

/**
 * A fake apiserver: scripted list answers and watch streams. Like the real client it hands out decoded JSON as
 * the type the caller asks for, unchecked (the casts below are that decoding, not typed fixtures).
 */
function fakeClient(lists: KubeObject[][], watches: ((emit: (e: WatchEvent) => void) => Promise<void>)[]) {
  const calls: string[] = [];
  const client: KubeClient = {
    async request<T>(_method: string, path: string): Promise<T> {
      calls.push(`list ${path}`);
      const page: List<KubeObject> = {
        metadata: { resourceVersion: String(calls.length * 10) },
        items: lists.shift() ?? [],
      };
      return page as T;
    },
    async watch<T extends KubeObject>(
      _path: string,
      query: RequestOptions['query'],
      onEvent: (e: WatchEvent<T>) => void,
      signal: AbortSignal,
    ) {
      calls.push(`watch rv=${query?.resourceVersion}`);
      const next = watches.shift();
      if (!next) return new Promise<void>((r) => signal.addEventListener('abort', () => r()));
      await next((e) => onEvent(e as WatchEvent<T>));
    },
  };
  return { client, calls };
}

describe('Informer', () => {
  it('lists, applies watch events, and relists on 410 Gone (emitting deletions it missed)', async () => {
    const { client, calls } = fakeClient(
      [
        [obj('a', '1'), obj('b', '2')],
        [obj('a', '1'), obj('c', '7')],
      ],
      [
        async (emit) => {
          emit({ type: 'MODIFIED', object: obj('a', '3') });
          emit({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '5' } } });
        },
        async () => {
          throw new ApiError(410, 'Expired', 'too old resource version');
        },
      ],
    );
    const events: string[] = [];
    const inf = new Informer<KubeObject>(client, SERVICES).on((t, o) => events.push(`${t} ${o.metadata.name}`));
    inf.start();
    await inf.synced;
    await waitFor(() => inf.lists === 2);
    await waitFor(() => events.includes('add c'));
    inf.stop();
    expect(calls.slice(0, 4)).toEqual(['list /api/v1/services', 'watch rv=10', 'watch rv=5', 'list /api/v1/services']);
    expect(events).toEqual(['add a', 'add b', 'update a', 'delete b', 'update a', 'add c']);
    expect(
      inf
        .list()
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(['a', 'c']);
    expect(inf.get('ns/a')?.kind).toBe('Service');
  });

  it('backs off and retries when listing fails', async () => {
    let failures = 2;
    const { client } = fakeClient([[obj('a', '1')]], []);
    const request = client.request.bind(client);
    client.request = async <T>(method: string, path: string) => {
      if (failures-- > 0) throw new ApiError(503, 'ServiceUnavailable', 'storage is (re)initializing');
      return request<T>(method, path);
    };
    const clock = new FakeClock();
    const inf = new Informer<KubeObject>(client, SERVICES, { clock });
    let synced = false;
    void inf.synced.then(() => {
      synced = true;
    });
    inf.start();
    // two failures: 200 ms, then 400 ms of backoff (each plus up to 20 % jitter)
    const waited = await clock.advanceUntil(() => synced, 10, 2000, 'the informer to list');
    inf.stop();
    expect(failures).toBe(-1);
    expect(waited).toBeGreaterThanOrEqual(600);
    expect(waited).toBeLessThanOrEqual(730);
    expect(inf.list()).toHaveLength(1);
  });
});
