/**
 * Protection follows the pool, not the string: a pool a RoutePolicy covers is reachable only under that policy's
 * auth and limits, whether the client names it, one of its aliases, a rule's name that routes there, or reaches it
 * as a fallback; pools no policy covers follow the proxy's default access (allow or deny), and a denied pool is
 * answered exactly like an unknown model to a caller without a key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../sim/index.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { ask, backendAndPool, chat, KEYS, KEYS_SECRET, routePolicy } from './governance-fixtures.js';

let sims: Record<'chat' | 'backing' | 'public' | 'secret', Simulator>;
let proxy: TestProxy;
let denying: TestProxy;
const chats = (s: Simulator) => s.stats().byPath['/v1/chat/completions'] ?? 0;

/** A backend and a pool `name` serving `model` with `aliases`, one attempt per request. */
const pool = (name: string, model: string, url: string, aliases: string[] = []) =>
  backendAndPool(
    name,
    model,
    [url],
    `  aliases: [${aliases.map((a) => `"${a}"`).join(', ')}]\n  retry: { attempts: 1 }`,
  );

beforeAll(async () => {
  const [a, b, c, d] = await Promise.all([0, 1, 2, 3].map(() => startSimulator({ flavour: 'vllm' })));
  sims = { chat: a as Simulator, backing: b as Simulator, public: c as Simulator, secret: d as Simulator };
  const manifests = [
    KEYS_SECRET,
    pool('chat', 'chat', sims.chat.url, ['chat-alias']),
    pool('backing', 'backing-model', sims.backing.url),
    pool('public', 'public', sims.public.url),
    pool('secret', 'secret', sims.secret.url),
    routePolicy(
      'protected',
      `  rules:
    - match: { model: { value: chat } }
    - match: { model: { value: virtual } }
      pools: [{ name: backing }]
    - match: { model: { value: secret } }
  auth: { required: true }
  tenants:
    - name: team-a
      apiKeys: [{ name: api-keys, key: team-a }]
    - name: team-b
      apiKeys: [{ name: api-keys, key: team-b }]
      limits: { requestsPerMinute: 5 }`,
    ),
    routePolicy(
      'open-routes',
      `  rules:
    - match: { model: { value: public } }
      fallbacks: [secret]`,
    ),
  ].join('');
  proxy = await startTestProxy(manifests);
  denying = await startTestProxy(
    [
      pool('covered', 'covered', sims.public.url),
      pool('uncovered', 'uncovered', sims.secret.url),
      routePolicy('open', '  rules: [{ match: { model: { value: covered } } }]'),
    ].join(''),
    { defaultAccess: 'deny' },
  );
});

afterAll(async () => {
  await proxy?.stop();
  await denying?.stop();
  await Promise.all(Object.values(sims ?? {}).map((s) => s.close()));
});

describe('protection follows the pool', () => {
  it('asks for a key through an alias of a protected pool as through its name', async () => {
    const before = chats(sims.chat);
    for (const model of ['chat', 'chat-alias']) {
      const r = await chat(proxy.url, ask(model));
      expect(r.status, model).toBe(401);
      expect(r.body).toMatchObject({ error: { code: 'missing_api_key' } });
    }
    expect(chats(sims.chat)).toBe(before);
    expect((await chat(proxy.url, ask('chat-alias'), { key: KEYS.teamA })).status).toBe(200);
  });

  it('asks for a key when a pool a rule routes to is called by its own name', async () => {
    const before = chats(sims.backing);
    expect((await chat(proxy.url, ask('virtual'))).status).toBe(401);
    expect((await chat(proxy.url, ask('backing-model'))).status).toBe(401);
    expect(chats(sims.backing)).toBe(before);
    expect((await chat(proxy.url, ask('backing-model'), { key: KEYS.teamA })).status).toBe(200);
  });

  it('never falls back to a protected pool for a caller it does not admit', async () => {
    sims.public.setFaults({ status: 503 });
    try {
      const before = chats(sims.secret);
      const anonymous = await chat(proxy.url, ask('public'));
      expect(anonymous.status).toBeGreaterThanOrEqual(500);
      expect(chats(sims.secret)).toBe(before);
      const tenant = await chat(proxy.url, ask('public'), { key: KEYS.teamA });
      expect(tenant.status).toBe(200);
      expect(tenant.headers.get('x-switchyard-fallback')).toBe('default/secret');
      expect(chats(sims.secret)).toBe(before + 1);
    } finally {
      sims.public.setFaults(null);
    }
    expect((await chat(proxy.url, ask('public'))).status).toBe(200);
  });

  it('gives a tenant limited to 5 requests per minute 5, whatever names it uses', async () => {
    const names = ['chat', 'chat-alias', 'virtual', 'backing-model'];
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++)
      statuses.push((await chat(proxy.url, ask(names[i % names.length] as string), { key: KEYS.teamB })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
  });

  it('lists exactly what the caller may call', async () => {
    const list = async (key?: string) => {
      const r = await fetch(`${proxy.url}/v1/models`, key ? { headers: { authorization: `Bearer ${key}` } } : {});
      return ((await r.json()) as { data: { id: string }[] }).data.map((m) => m.id);
    };
    expect(await list()).toEqual(['public']);
    expect(await list(KEYS.teamA)).toEqual(['backing-model', 'chat', 'chat-alias', 'public', 'secret', 'virtual']);
  });
});

describe('default access for pools no policy covers', () => {
  it('denies them under deny, with the answer an unknown model gets', async () => {
    expect((await chat(denying.url, ask('covered'))).status).toBe(200);
    const uncovered = await chat(denying.url, ask('uncovered'));
    const unknown = await chat(denying.url, ask('no-such-model'));
    expect(uncovered.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(JSON.stringify(uncovered.body).replaceAll('uncovered', 'X')).toBe(
      JSON.stringify(unknown.body).replaceAll('no-such-model', 'X'),
    );
    const listed = (await (await fetch(`${denying.url}/v1/models`)).json()) as { data: { id: string }[] };
    expect(listed.data.map((m) => m.id)).toEqual(['covered']);
  });
});
