/**
 * API keys and tenants end to end: keys from Authorization/x-api-key, 401/403 in each surface's shape with
 * x-should-retry: false, tenant-matched rules, model allow-lists, and keys never leaking into logs, metrics,
 * GET /config or error messages.
 */
import { Writable } from 'node:stream';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../sim/index.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { ask, backendAndPool, chat, KEYS, KEYS_SECRET, routePolicy } from './governance-fixtures.js';

const TEAM_C_KEY = 'sk-team-c-5f1e2d3c4b5a69788796';
let sims: { main: Simulator; premium: Simulator; open: Simulator };
let proxy: TestProxy;
let logText = '';
const chats = (s: Simulator) => s.stats().byPath['/v1/chat/completions'] ?? 0;

beforeAll(async () => {
  const [main, premium, open] = await Promise.all(
    [0, 1, 2].map(() => startSimulator({ flavour: 'vllm', models: ['sim-model'] })),
  );
  sims = { main: main as Simulator, premium: premium as Simulator, open: open as Simulator };
  const manifests = `${KEYS_SECRET}${backendAndPool('chat', 'chat', [sims.main.url])}${backendAndPool('premium', 'premium', [sims.premium.url])}${backendAndPool('open', 'open-model', [sims.open.url])}${routePolicy(
    'teams',
    `  rules:
    - name: team-b-gets-premium
      match: { model: { value: chat }, tenants: [team-b] }
      pools: [{ name: premium }]
    - match: { model: { value: chat } }
      fallbacks: [premium]
    - match: { model: { value: premium } }
  auth: { required: true }
  tenants:
    - name: team-a
      apiKeys: [{ name: api-keys, key: team-a }, { name: api-keys, key: team-a-2 }]
      models: ["chat"]
    - name: team-b
      apiKeys: [{ name: api-keys, key: team-b }]
      models: ["chat", "prem*"]
    - name: team-c
      apiKeys: [{ name: more-keys, key: team-c }]
      models: ["chat", "premium"]`,
  )}
apiVersion: v1
kind: Secret
metadata: { name: more-keys }
stringData: { team-c: "${TEAM_C_KEY}" }
`;
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logText += chunk.toString();
      cb();
    },
  });
  proxy = await startTestProxy(manifests, { log: pino({ level: 'debug' }, sink) });
});

afterAll(async () => {
  await proxy?.stop();
  await Promise.all(Object.values(sims ?? {}).map((s) => s.close()));
});

describe('API keys and tenants', () => {
  it('answers 401 without a key, in the OpenAI shape, not worth retrying', async () => {
    const r = await chat(proxy.url, ask('chat'));
    expect(r.status).toBe(401);
    expect(r.headers.get('x-should-retry')).toBe('false');
    expect(r.body).toMatchObject({ error: { type: 'invalid_request_error', code: 'missing_api_key' } });
    expect(chats(sims.main)).toBe(0);
  });

  it('answers 401 for an unknown key without echoing it', async () => {
    const r = await chat(proxy.url, ask('chat'), { key: 'sk-not-a-real-key-123456' });
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ error: { code: 'invalid_api_key' } });
    expect(JSON.stringify(r.body)).not.toContain('sk-not-a-real-key');
  });

  it('accepts a key from Authorization: Bearer and from x-api-key, and reports the tenant', async () => {
    const bearer = await chat(proxy.url, ask('chat'), { key: KEYS.teamA });
    expect(bearer.status).toBe(200);
    const xApiKey = await chat(proxy.url, ask('chat'), { key: KEYS.teamA2, header: 'x-api-key' });
    expect(xApiKey.status).toBe(200);
    expect(chats(sims.main)).toBe(2);
  });

  it('routes by tenant: a rule matching team-b sends its requests to another pool', async () => {
    const before = { main: chats(sims.main), premium: chats(sims.premium) };
    const r = await chat(proxy.url, ask('chat'), { key: KEYS.teamB });
    expect(r.status).toBe(200);
    expect(chats(sims.premium)).toBe(before.premium + 1);
    expect(chats(sims.main)).toBe(before.main);
  });

  it('answers 403 for a model outside the tenant allow-list', async () => {
    const denied = await chat(proxy.url, ask('premium'), { key: KEYS.teamA });
    expect(denied.status).toBe(403);
    expect(denied.headers.get('x-should-retry')).toBe('false');
    expect(denied.body).toMatchObject({ error: { type: 'permission_error', code: 'model_not_allowed' } });
    const allowed = await chat(proxy.url, ask('premium'), { key: KEYS.teamB });
    expect(allowed.status).toBe(200);
  });

  it('never falls back to a pool outside the tenant allow-list', async () => {
    sims.main.setFaults({ status: 503 });
    try {
      const before = chats(sims.premium);
      const denied = await chat(proxy.url, ask('chat'), { key: KEYS.teamA });
      expect(denied.status).toBeGreaterThanOrEqual(500);
      expect(chats(sims.premium)).toBe(before);
      // A tenant that may use the fallback pool gets its answer from there.
      const served = await chat(proxy.url, ask('chat'), { key: TEAM_C_KEY });
      expect(served.status).toBe(200);
      expect(served.headers.get('x-switchyard-fallback')).toBe('default/premium');
      expect(chats(sims.premium)).toBe(before + 1);
    } finally {
      sims.main.setFaults(null);
    }
  });

  it('answers 401 rather than 404 for an unknown model when the caller has no key', async () => {
    const r = await chat(proxy.url, ask('no-such-model'));
    expect(r.status).toBe(401);
    const known = await chat(proxy.url, ask('no-such-model'), { key: KEYS.teamA });
    expect(known.status).toBe(404);
  });

  it('leaves models no policy covers open', async () => {
    const r = await chat(proxy.url, ask('open-model'));
    expect(r.status).toBe(200);
  });

  it('works with the official SDKs: openai (Bearer) and Anthropic (x-api-key, its own error shape)', async () => {
    const openai = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: KEYS.teamA, maxRetries: 0 });
    const ok = await openai.chat.completions.create({
      model: 'chat',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 3,
    });
    expect(ok.choices[0]?.message.content?.length).toBeGreaterThan(0);
    const wrong = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'sk-wrong', maxRetries: 0 });
    await expect(
      wrong.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toMatchObject({ status: 401 });

    const anthropic = new Anthropic({ baseURL: proxy.url, apiKey: KEYS.teamB, maxRetries: 0 });
    const msg = await anthropic.messages.create({
      model: 'chat',
      max_tokens: 3,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(msg.content.length).toBeGreaterThan(0);
    const res = await fetch(`${proxy.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-wrong' },
      body: JSON.stringify({ model: 'chat', max_tokens: 3, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('x-should-retry')).toBe('false');
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
  });

  it('answers 403 in the Anthropic shape and 401/403 in the Ollama shape', async () => {
    const anthropic = await fetch(`${proxy.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': KEYS.teamA },
      body: JSON.stringify({ model: 'premium', max_tokens: 3, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(anthropic.status).toBe(403);
    expect(anthropic.headers.get('x-should-retry')).toBe('false');
    expect(await anthropic.json()).toMatchObject({ type: 'error', error: { type: 'permission_error' } });

    const ollama = (key?: string, model = 'chat') =>
      fetch(`${proxy.url}/api/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body: JSON.stringify({ model, stream: false, messages: [{ role: 'user', content: 'hi' }] }),
      });
    const missing = await ollama();
    expect(missing.status).toBe(401);
    expect(missing.headers.get('x-should-retry')).toBe('false');
    const missingBody = (await missing.json()) as { error: unknown };
    expect(typeof missingBody.error).toBe('string');
    const forbidden = await ollama(KEYS.teamA, 'premium');
    expect(forbidden.status).toBe(403);
    expect(typeof ((await forbidden.json()) as { error: unknown }).error).toBe('string');
    const ok = await ollama(KEYS.teamA);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { done: boolean }).done).toBe(true);
  });

  it('lists only the models the caller may call, on every surface', async () => {
    const list = async (path: string, headers: Record<string, string> = {}) => {
      const r = await fetch(`${proxy.url}${path}`, { headers });
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    };
    const ids = (b: Record<string, unknown>) =>
      ((b.data ?? b.models) as Array<{ id?: string; name?: string }>).map((m) => m.id ?? m.name);
    // Anonymous: only models no auth-requiring policy covers.
    expect(ids((await list('/v1/models')).body)).toEqual(['open-model']);
    const teamA = { authorization: `Bearer ${KEYS.teamA}` };
    expect(ids((await list('/v1/models', teamA)).body)).toEqual(['chat', 'open-model']);
    expect(ids((await list('/api/tags', { authorization: `Bearer ${KEYS.teamB}` })).body)).toEqual([
      'chat',
      'open-model',
      'premium',
    ]);
    const anthropic = await list('/v1/models', { 'x-api-key': KEYS.teamA, 'anthropic-version': '2023-06-01' });
    expect(ids(anthropic.body)).toEqual(['chat', 'open-model']);
    // A wrong key is refused, not treated as anonymous.
    const wrong = await list('/v1/models', { authorization: 'Bearer sk-wrong-key-000' });
    expect(wrong.status).toBe(401);
    // One model: 401 without a key, 403 outside the allow-list, 200 inside it.
    expect((await list('/v1/models/premium')).status).toBe(401);
    expect((await list('/v1/models/premium', teamA)).status).toBe(403);
    expect((await list('/v1/models/chat', teamA)).body).toMatchObject({ id: 'chat', object: 'model' });
  });

  it('never shows a key in logs, metrics, GET /config or error messages', async () => {
    const texts: string[] = [];
    for (const key of Object.values(KEYS)) {
      texts.push(JSON.stringify((await chat(proxy.url, ask('premium'), { key })).body));
      texts.push(JSON.stringify((await chat(proxy.url, { model: 'chat' }, { key })).body));
    }
    texts.push(await (await fetch(`${proxy.adminUrl}/metrics`)).text());
    texts.push(await (await fetch(`${proxy.adminUrl}/config`)).text());
    texts.push(logText);
    expect(logText.length).toBeGreaterThan(0);
    const all = texts.join('\n');
    for (const key of [...Object.values(KEYS), TEAM_C_KEY]) {
      expect(all).not.toContain(key);
      expect(all).not.toContain(key.slice(6)); // no partial echo either
    }
  });
});
