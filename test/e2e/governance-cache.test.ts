/**
 * Response cache end to end: exact-match hits served without the upstream, shared across proxies through Redis,
 * misses for another tenant or a sampled request, streaming hits replayed as SSE the openai SDK accepts, the entry
 * size limit, nonDeterministic policies, and the in-memory cache without Redis.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../sim/index.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { ask, backendAndPool, chat, KEYS, KEYS_SECRET, routePolicy } from './governance-fixtures.js';

let redis: TestRedis;
let sim: Simulator;
let proxies: TestProxy[];
let local: TestProxy;
const chats = () => sim.stats().byPath['/v1/chat/completions'] ?? 0;

beforeAll(async () => {
  redis = await startRedis();
  sim = await startSimulator({ flavour: 'vllm' });
  const manifests = [
    KEYS_SECRET,
    backendAndPool('cached', 'cached-model', [sim.url]),
    backendAndPool('tiny', 'tiny-model', [sim.url]),
    backendAndPool('sampled', 'sampled-model', [sim.url]),
    routePolicy(
      'cached',
      `  rules: [{ match: { model: { value: cached-model } } }]
  tenants:
    - { name: team-a, apiKeys: [{ name: api-keys, key: team-a }] }
    - { name: team-b, apiKeys: [{ name: api-keys, key: team-b }] }
  cache: { ttl: 5m }`,
    ),
    routePolicy('tiny', '  rules: [{ match: { model: { value: tiny-model } } }]\n  cache: { maxEntryBytes: 1500 }'),
    routePolicy(
      'sampled',
      '  rules: [{ match: { model: { value: sampled-model } } }]\n  cache: { nonDeterministic: true }',
    ),
  ].join('');
  proxies = await Promise.all([0, 1].map(() => startTestProxy(manifests, { redisUrl: redis.url })));
  local = await startTestProxy(manifests);
});

afterAll(async () => {
  await Promise.all([...(proxies ?? []), local].map((p) => p?.stop()));
  await sim?.close();
  await redis?.close();
});

const url = (i: number) => (proxies[i] as TestProxy).url;

describe('response cache', () => {
  it('serves the second identical deterministic request from cache, on any proxy, without the upstream', async () => {
    const body = ask('cached-model', { temperature: 0, messages: [{ role: 'user', content: 'cache me' }] });
    const before = chats();
    const first = await chat(url(0), body, { key: KEYS.teamA });
    expect(first.status).toBe(200);
    expect(first.headers.get('x-switchyard-cache')).toBe('miss');
    const second = await chat(url(0), body, { key: KEYS.teamA });
    expect(second.headers.get('x-switchyard-cache')).toBe('hit');
    expect(second.body).toEqual(first.body);
    const third = await chat(url(1), body, { key: KEYS.teamA });
    expect(third.headers.get('x-switchyard-cache')).toBe('hit');
    expect(chats() - before).toBe(1);
  });

  it('misses for another tenant and for sampled requests', async () => {
    const body = ask('cached-model', { temperature: 0, messages: [{ role: 'user', content: 'per tenant' }] });
    await chat(url(0), body, { key: KEYS.teamA });
    const before = chats();
    const other = await chat(url(0), body, { key: KEYS.teamB });
    expect(other.headers.get('x-switchyard-cache')).toBe('miss');
    for (const extra of [{}, { temperature: 0.7 }]) {
      const sampled = { ...ask('cached-model', { messages: [{ role: 'user', content: 'sampled' }] }), ...extra };
      for (let i = 0; i < 2; i++) {
        const r = await chat(url(0), sampled, { key: KEYS.teamA });
        expect(r.status).toBe(200);
        expect(r.headers.get('x-switchyard-cache')).toBe('miss');
      }
    }
    expect(chats() - before).toBe(5);
  });

  it('replays a cached stream as SSE the openai SDK accepts', async () => {
    const client = new OpenAI({ baseURL: `${url(0)}/v1`, apiKey: KEYS.teamB, maxRetries: 0 });
    const request = {
      model: 'cached-model',
      messages: [{ role: 'user' as const, content: 'stream me from cache' }],
      max_tokens: 8,
      temperature: 0,
      stream: true as const,
    };
    const read = async () => {
      const { data, response } = await client.chat.completions.create(request).withResponse();
      let text = '';
      let finish: string | null | undefined;
      for await (const chunk of data) {
        text += chunk.choices[0]?.delta.content ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      return { text, finish, cache: response.headers.get('x-switchyard-cache') };
    };
    const before = chats();
    const first = await read();
    const second = await read();
    expect(first.cache).toBe('miss');
    expect(second.cache).toBe('hit');
    expect(second.text).toBe(first.text);
    expect(second.text.length).toBeGreaterThan(0);
    expect(second.finish).toBe('length');
    expect(chats() - before).toBe(1);
  });

  it('does not store answers bigger than maxEntryBytes, and stores smaller ones', async () => {
    const small = ask('tiny-model', { temperature: 0, messages: [{ role: 'user', content: 'short one' }] });
    const big = ask('tiny-model', {
      temperature: 0,
      max_tokens: 600,
      messages: [{ role: 'user', content: 'long one [sim output-tokens=600]' }],
    });
    const before = chats();
    const first = await chat(url(0), small);
    expect(JSON.stringify(first.body).length).toBeLessThan(1500);
    expect((await chat(url(0), small)).headers.get('x-switchyard-cache')).toBe('hit');
    const large = await chat(url(0), big);
    expect(JSON.stringify(large.body).length).toBeGreaterThan(1500);
    expect(large.headers.get('x-switchyard-cache')).toBe('miss');
    expect((await chat(url(0), big)).headers.get('x-switchyard-cache')).toBe('miss');
    expect(chats() - before).toBe(3);
  });

  it('caches sampled requests when the policy allows nonDeterministic answers', async () => {
    const body = ask('sampled-model', { messages: [{ role: 'user', content: 'any answer will do' }] });
    await chat(url(0), body);
    expect((await chat(url(1), body)).headers.get('x-switchyard-cache')).toBe('hit');
  });

  it('works without Redis from the in-memory cache', async () => {
    const body = ask('cached-model', { temperature: 0, messages: [{ role: 'user', content: 'local only' }] });
    const before = chats();
    expect((await chat(local.url, body, { key: KEYS.teamA })).headers.get('x-switchyard-cache')).toBe('miss');
    expect((await chat(local.url, body, { key: KEYS.teamA })).headers.get('x-switchyard-cache')).toBe('hit');
    expect(chats() - before).toBe(1);
  });
});
