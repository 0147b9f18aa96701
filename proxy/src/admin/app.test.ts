import { gzipSync } from 'node:zlib';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { parseManifests } from '../../../shared/src/manifests/parse.js';
import { snapshotVersion } from '../../../shared/src/proxyconfig/index.js';
import { translate } from '../../../shared/src/translate/index.js';
import { SnapshotStore } from '../config/store.js';
import { createAdminApp } from './app.js';

const snapshot = (model: string) =>
  translate(
    parseManifests(`
apiVersion: switchyard.dev/v1alpha1
kind: LLMBackend
metadata: { name: b }
spec:
  provider: openai
  url: https://api.example.com/v1
  credentialsRef: { name: s, key: k }
  models: [{ name: ${model} }]
---
apiVersion: v1
kind: Secret
metadata: { name: s }
stringData: { k: sk-very-secret-value }
---
apiVersion: switchyard.dev/v1alpha1
kind: LLMPool
metadata: { name: p }
spec: { model: ${model}, backendRefs: [{ name: b }] }
`),
  ).config;

function setup() {
  const store = new SnapshotStore();
  const app = createAdminApp({ store, log: pino({ level: 'silent' }), pushToken: 'push-secret' });
  const put = (body: unknown, token = 'push-secret') =>
    app.request('/config', {
      method: 'PUT',
      body: typeof body === 'string' ? body : JSON.stringify(body),
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    });
  return { store, app, put };
}

describe('admin API', () => {
  const putBytes = (app: ReturnType<typeof setup>['app'], body: Buffer, encoding?: string) =>
    app.request('/config', {
      method: 'PUT',
      body,
      headers: {
        authorization: 'Bearer push-secret',
        'content-type': 'application/json',
        ...(encoding ? { 'content-encoding': encoding } : {}),
      },
    });

  it('applies a gzip push sent as several gzip members, and reports the fleet view it carries', async () => {
    const { store, app } = setup();
    const base = snapshot('m1');
    const s = { ...base, fleet: { proxies: 3, ordinal: 2 } };
    const full = { ...s, version: snapshotVersion(s) };
    const text = JSON.stringify(full);
    const cut = [0, 40, text.length - 30, text.length];
    const body = Buffer.concat(cut.slice(1).map((end, i) => gzipSync(text.slice(cut[i], end))));
    const res = await putBytes(app, body, 'gzip');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      version: full.version,
      instance: expect.any(String),
      fleet: s.fleet,
      settled: true,
    });
    expect(store.current?.fleet).toEqual(s.fleet);
    const version = (await (await app.request('/config/version')).json()) as { fleet: unknown };
    expect(version.fleet).toEqual(s.fleet);
  });

  it('refuses a gzip bomb, broken gzip and unknown encodings without applying anything', async () => {
    const store = new SnapshotStore();
    const app = createAdminApp({
      store,
      log: pino({ level: 'silent' }),
      pushToken: 'push-secret',
      maxSnapshotBytes: 1 << 20,
    });
    const bomb = gzipSync(Buffer.alloc(8 << 20, 32));
    expect(bomb.length).toBeLessThan(1 << 20);
    const tooBig = await putBytes(app, bomb, 'gzip');
    expect(tooBig.status).toBe(413);
    expect(((await tooBig.json()) as { error: { message: string } }).error.message).toMatch(/decompressed/);
    expect((await putBytes(app, Buffer.from('not gzip at all'), 'gzip')).status).toBe(400);
    expect((await putBytes(app, gzipSync(JSON.stringify(snapshot('m1'))), 'br')).status).toBe(415);
    expect((await putBytes(app, Buffer.alloc((1 << 20) + 1, 32))).status).toBe(413);
    expect(store.current).toBeUndefined();
  });

  it('is not ready until a snapshot is pushed, then serves its version', async () => {
    const { app, put } = setup();
    expect((await app.request('/readyz')).status).toBe(503);
    expect((await app.request('/healthz')).status).toBe(200);
    const s = snapshot('m1');
    const res = await put(s);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ version: s.version, instance: expect.any(String), fleet: null, settled: true });
    expect((await app.request('/readyz')).status).toBe(200);
    const cfg = (await (await app.request('/config')).json()) as { version: string };
    expect(cfg.version).toBe(s.version);
  });

  it('reports an instance id that changes when the proxy restarts, with and without a snapshot', async () => {
    const first = setup();
    const before = (await (await first.app.request('/config/version')).json()) as { instance: string };
    expect(before.instance).toMatch(/^[0-9a-f-]{36}$/);
    const s = snapshot('m1');
    const put = (await (await first.put(s)).json()) as { version: string; instance: string };
    expect(put).toEqual({ version: s.version, instance: before.instance, fleet: null, settled: true });
    expect(await (await first.app.request('/config/version')).json()).toEqual(put);
    const full = (await (await first.app.request('/config')).json()) as { instance: string };
    expect(full.instance).toBe(before.instance);
    // a restarted process (a new app) answers with another id, and no version until it is pushed again
    const restarted = setup();
    const after = await restarted.app.request('/config/version');
    expect(after.status).toBe(503);
    expect(((await after.json()) as { instance: string }).instance).not.toBe(before.instance);
  });

  it('refuses pushes without the right token and applies nothing', async () => {
    const { store, app, put } = setup();
    expect((await put(snapshot('m1'), 'wrong')).status).toBe(401);
    const noAuth = await app.request('/config', { method: 'PUT', body: JSON.stringify(snapshot('m1')) });
    expect(noAuth.status).toBe(401);
    expect(store.current).toBeUndefined();
  });

  it('rejects an invalid snapshot with 422 and the reason, and keeps serving the old one', async () => {
    const { store, put } = setup();
    const good = snapshot('m1');
    await put(good);
    const bad = { ...snapshot('m2'), backends: [{ id: 'x' }] };
    const res = await put(bad);
    expect(res.status).toBe(422);
    const body = (await res.json()) as { error: { problems: string[] }; version: string };
    expect(body.error.problems.some((p) => p.startsWith('backends[0].'))).toBe(true);
    expect(body.version).toBe(good.version);
    expect(store.current?.config.version).toBe(good.version);
    expect((await put('{not json')).status).toBe(400);
    expect(store.current?.config.version).toBe(good.version);
  });

  it('refuses a snapshot whose content does not match its version', async () => {
    const { store, put } = setup();
    const good = snapshot('m1');
    expect((await put(good)).status).toBe(200);
    // Same version, different content (a pool's model edited after the snapshot was generated).
    const tampered = { ...snapshot('m2'), version: snapshot('m3').version };
    const res = await put(tampered);
    expect(res.status).toBe(422);
    const body = (await res.json()) as { error: { problems: string[] } };
    expect(body.error.problems).toEqual([`version: ${tampered.version} is not the content hash of the snapshot`]);
    expect(store.current?.config.version).toBe(good.version);
    // generatedAt is not part of the content: a regenerated snapshot of the same resources keeps its version.
    expect((await put({ ...good, generatedAt: '2030-01-01T00:00:00.000Z' })).status).toBe(200);
  });

  it('never shows credentials in GET /config', async () => {
    const { app, put } = setup();
    await put(snapshot('m1'));
    const text = await (await app.request('/config')).text();
    expect(text).not.toContain('sk-very-secret-value');
    expect(text).toContain('"hasCredentials":true');
  });

  it('lists endpoint circuit state', async () => {
    const { app, put } = setup();
    await put(snapshot('m1'));
    const body = (await (await app.request('/config/endpoints')).json()) as {
      pools: Array<{ tiers: Array<{ endpoints: Array<{ id: string; inflight: number; available: boolean }> }> }>;
    };
    expect(body.pools[0]?.tiers[0]?.endpoints[0]).toMatchObject({ id: 'b/0', inflight: 0, available: true });
  });
});

describe('GET /usage', () => {
  const log = pino({ level: 'silent' });
  const rows = [
    {
      group: { tenant: 'a' },
      currency: 'USD',
      requests: 2,
      errors: 0,
      inputTokens: 3,
      outputTokens: 4,
      cachedInputTokens: 0,
      cost: 0.5,
    },
  ];
  const queries: unknown[] = [];
  const ledger = {
    queryUsage: async (q: unknown) => {
      queries.push(q);
      return rows;
    },
  };
  const get = (app: ReturnType<typeof createAdminApp>, query: string, token = 'read') =>
    app.request(`/usage${query}`, { headers: { authorization: `Bearer ${token}` } });

  it('answers 404 without a ledger and 503 when the ledger fails', async () => {
    const none = createAdminApp({ store: new SnapshotStore(), log, usageToken: 'read' });
    expect((await get(none, '')).status).toBe(404);
    const failing = createAdminApp({
      store: new SnapshotStore(),
      log,
      usageToken: 'read',
      ledger: { queryUsage: () => Promise.reject(new Error('connection refused')) },
    });
    const r = await get(failing, '');
    expect(r.status).toBe(503);
    expect(await r.text()).not.toContain('connection refused');
  });

  it('defaults to this UTC month, passes filters and flattens the groups', async () => {
    queries.length = 0;
    const app = createAdminApp({ store: new SnapshotStore(), log, usageToken: 'read', ledger });
    const r = await get(app, '?groupBy=tenant&tenant=a&status=200&limit=5');
    expect(r.status).toBe(200);
    const body = (await r.json()) as { from: string; rows: unknown[]; truncated: boolean };
    expect(new Date(body.from).getUTCDate()).toBe(1);
    expect(body.rows).toEqual([{ tenant: 'a', ...rows[0], group: undefined }].map(({ group: _, ...x }) => x));
    expect(body.truncated).toBe(false);
    expect(queries[0]).toMatchObject({ groupBy: ['tenant'], filters: { tenant: 'a', status: '200' }, limit: 5 });
    expect((await get(app, '?limit=0')).status).toBe(400);
    expect((await get(app, '?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z')).status).toBe(400);
    expect((await get(app, '?select=1')).status).toBe(400);
  });
});
