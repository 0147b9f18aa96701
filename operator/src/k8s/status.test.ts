import { describe, expect, it } from 'vitest';
import { ApiError, type KubeClient, type RequestOptions } from './client.js';
import { LLM_POOLS } from './resources.js';
import { writeStatus } from './status.js';

type Obj = { metadata: { name: string; namespace: string; resourceVersion: string }; status?: { n: number } };

function fakeClient(putResults: (ApiError | undefined)[], fresh: Obj) {
  const calls: string[] = [];
  const client: KubeClient = {
    async request<T>(method: string, path: string, opts?: RequestOptions): Promise<T> {
      calls.push(
        `${method} ${path} ${JSON.stringify((opts?.body as Obj | undefined)?.metadata?.resourceVersion ?? '')}`,
      );
      if (method === 'GET') return fresh as T;
      const err = putResults.shift();
      if (err) throw err;
      return opts?.body as T;
    },
    watch: async () => {},
  };
  return { client, calls };
}

const cached: Obj = { metadata: { name: 'p', namespace: 'ns', resourceVersion: '1' }, status: { n: 1 } };

describe('writeStatus', () => {
  it('re-reads and recomputes from the latest object on 409 Conflict', async () => {
    const fresh: Obj = { metadata: { name: 'p', namespace: 'ns', resourceVersion: '2' }, status: { n: 5 } };
    const { client, calls } = fakeClient([new ApiError(409, 'Conflict', 'modified'), undefined], fresh);
    const seen: number[] = [];
    const r = await writeStatus<Obj>(client, LLM_POOLS, cached, (cur) => {
      seen.push(cur.status?.n ?? 0);
      return { n: (cur.status?.n ?? 0) + 1 };
    });
    expect(r).toBe('written');
    expect(seen).toEqual([1, 5]);
    expect(calls).toEqual([
      'PUT /apis/switchyard.dev/v1alpha1/namespaces/ns/llmpools/p/status "1"',
      'GET /apis/switchyard.dev/v1alpha1/namespaces/ns/llmpools/p ""',
      'PUT /apis/switchyard.dev/v1alpha1/namespaces/ns/llmpools/p/status "2"',
    ]);
  });

  it('does nothing when the status is already right, and treats 404 as gone', async () => {
    const { client, calls } = fakeClient([new ApiError(404, 'NotFound', 'gone')], cached);
    expect(await writeStatus<Obj>(client, LLM_POOLS, cached, () => undefined)).toBe('unchanged');
    expect(calls).toEqual([]);
    expect(await writeStatus<Obj>(client, LLM_POOLS, cached, () => ({ n: 2 }))).toBe('gone');
  });

  it('gives up after the attempts and throws (the work queue backs off)', async () => {
    const conflict = () => new ApiError(409, 'Conflict', 'modified');
    const { client } = fakeClient([conflict(), conflict(), conflict()], cached);
    await expect(writeStatus<Obj>(client, LLM_POOLS, cached, () => ({ n: 2 }), 3)).rejects.toThrow('modified');
  });
});
