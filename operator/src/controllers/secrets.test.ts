import { describe, expect, it } from 'vitest';
import { ApiError, type KubeClient } from '../k8s/client.js';
import { SecretReader } from './secrets.js';

/** An apiserver holding Secrets by path; any verb but GET of one Secret fails the test. */
function fakeClient() {
  const secrets = new Map<string, { rv: string; data: Record<string, string> } | 'forbidden'>();
  const paths: string[] = [];
  const client: KubeClient = {
    request: async <T>(method: string, path: string): Promise<T> => {
      paths.push(`${method} ${path}`);
      if (method !== 'GET' || !/^\/api\/v1\/namespaces\/[^/]+\/secrets\/[^/?]+(\?resourceVersion=0)?$/.test(path))
        throw new Error(`unexpected ${method} ${path}`);
      const s = secrets.get(path.replace('?resourceVersion=0', ''));
      if (s === undefined) throw new ApiError(404, 'NotFound', 'not found');
      if (s === 'forbidden') throw new ApiError(403, 'Forbidden', 'forbidden');
      return { metadata: { resourceVersion: s.rv }, data: s.data } as T;
    },
    watch: async () => {},
  };
  const put = (ref: string, rv: string, value: string) => {
    const [ns, name] = ref.split('/');
    secrets.set(`/api/v1/namespaces/${ns}/secrets/${name}`, { rv, data: { k: Buffer.from(value).toString('base64') } });
  };
  const forbid = (ref: string) => {
    const [ns, name] = ref.split('/');
    secrets.set(`/api/v1/namespaces/${ns}/secrets/${name}`, 'forbidden');
  };
  return { client, paths, put, forbid };
}

describe('SecretReader', () => {
  it('reads only the referenced Secrets, by name, once each until refreshed', async () => {
    const api = fakeClient();
    api.put('ns/a', '1', 'va');
    api.put('ns/unrelated', '1', 'never read');
    const reader = new SecretReader(api.client, { refreshMs: 0, onChange: () => {} });
    const got = await reader.secrets(new Set(['ns/a', 'ns/missing']));
    expect(got.map((s) => s.metadata.name)).toEqual(['a']);
    await reader.secrets(new Set(['ns/a', 'ns/missing']));
    expect(api.paths).toEqual(['GET /api/v1/namespaces/ns/secrets/a', 'GET /api/v1/namespaces/ns/secrets/missing']);
  });

  it('notices a rotated, a created and a deleted Secret on refresh, and forgets unreferenced ones', async () => {
    const api = fakeClient();
    api.put('ns/a', '1', 'old');
    let changes = 0;
    const reader = new SecretReader(api.client, { refreshMs: 0, onChange: () => changes++ });
    await reader.secrets(new Set(['ns/a', 'ns/later']));
    await reader.refresh();
    expect(changes).toBe(0);
    api.put('ns/a', '2', 'new');
    api.put('ns/later', '1', 'created');
    await reader.refresh();
    expect(changes).toBe(1);
    const now = await reader.secrets(new Set(['ns/a', 'ns/later']));
    expect(now.map((s) => Buffer.from(s.data?.k ?? '', 'base64').toString()).sort()).toEqual(['created', 'new']);
    await reader.secrets(new Set(['ns/a']));
    api.paths.length = 0;
    await reader.refresh();
    expect(api.paths).toEqual(['GET /api/v1/namespaces/ns/secrets/a?resourceVersion=0']);
  });

  it('keeps the last value when a Secret becomes unreadable (a blip must not drop credentials)', async () => {
    const api = fakeClient();
    api.put('ns/a', '1', 'v');
    let changes = 0;
    const reader = new SecretReader(api.client, { refreshMs: 0, onChange: () => changes++ });
    await reader.secrets(new Set(['ns/a']));
    api.forbid('ns/a');
    await reader.refresh();
    expect(changes).toBe(0);
    expect(await reader.secrets(new Set(['ns/a']))).toHaveLength(1);
    // never readable: absent
    api.forbid('ns/b');
    expect(await reader.secrets(new Set(['ns/b']))).toEqual([]);
  });
});
