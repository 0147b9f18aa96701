/**
 * Route matching through the proxy: which rule wins (an exact model name before the longest prefix; then more
 * header/tenant conditions; then rule order), header matches Exact and RegularExpression (RE2, matched as a whole,
 * linear in the header: a catastrophic-backtracking pattern and a hostile value answer at once), tenant matches,
 * traffic splits in exact shares, and modelRewrite: the upstream gets its backend's model name, the client sees the
 * rewritten one in every answer, streamed or not, on every surface.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../sim/index.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { backendAndPool, KEYS, KEYS_SECRET, routePolicy } from './governance-fixtures.js';

let sim: Simulator;
let proxy: TestProxy;

beforeAll(async () => {
  sim = await startSimulator({ flavour: 'vllm' });
  const pools = ['exact', 'prefix', 'gold', 'mobile', 'tenant', 'evil', 'split-a', 'split-b', 'real'];
  proxy = await startTestProxy(
    [
      KEYS_SECRET,
      ...pools.map((p) => backendAndPool(p, `${p}-model`, [sim.url])),
      routePolicy(
        'routing',
        `  auth: { required: false }
  tenants: [{ name: team-a, apiKeys: [{ name: api-keys, key: team-a }] }]
  rules:
    - match: { model: { type: Prefix, value: ch } }
      pools: [{ name: prefix }]
    - match: { model: { value: chat } }
      pools: [{ name: exact }]
    - match: { model: { value: chat }, headers: [{ name: X-Tier, value: gold }] }
      pools: [{ name: gold }]
    - match: { model: { value: chat }, tenants: [team-a] }
      pools: [{ name: tenant }]
    - match: { model: { value: chat }, headers: [{ name: x-client, type: RegularExpression, value: "mobile-(ios|android)" }] }
      pools: [{ name: mobile }]
    - match: { model: { value: chat }, headers: [{ name: x-evil, type: RegularExpression, value: "(a+)+$" }] }
      pools: [{ name: evil }]
    - match: { model: { value: canary } }
      pools: [{ name: split-a, weight: 3 }, { name: split-b, weight: 1 }]
    - match: { model: { value: branded } }
      pools: [{ name: real }]
      modelRewrite: acme-assistant`,
      ),
    ].join(''),
  );
});

afterAll(async () => {
  await proxy?.stop();
  await sim?.close();
});

/** The backend (pool) that served a chat for `model` with `headers`. */
async function servedBy(model: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${proxy.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model, max_tokens: 2, messages: [{ role: 'user', content: 'hi' }] }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return (res.headers.get('x-switchyard-endpoint') ?? '').split('/')[0] ?? '';
}

describe('rule precedence', () => {
  it('prefers an exact model name to a prefix, and uses the prefix for other names', async () => {
    expect(await servedBy('chat')).toBe('exact');
    expect(await servedBy('chatty')).toBe('prefix');
  });

  it('matches headers exactly (names case-insensitive) and prefers the rule with the condition', async () => {
    expect(await servedBy('chat', { 'x-tier': 'gold' })).toBe('gold');
    expect(await servedBy('chat', { 'x-tier': 'Gold' })).toBe('exact');
    expect(await servedBy('chat', { 'x-tier': 'gold-plus' })).toBe('exact');
  });

  it('matches a regular expression against the whole header value', async () => {
    expect(await servedBy('chat', { 'x-client': 'mobile-ios' })).toBe('mobile');
    expect(await servedBy('chat', { 'x-client': 'mobile-android' })).toBe('mobile');
    expect(await servedBy('chat', { 'x-client': 'mobile-ios-beta' })).toBe('exact');
    expect(await servedBy('chat', { 'x-client': 'my-mobile-ios' })).toBe('exact');
  });

  it('matches the tenant of the rule’s policy, and breaks a tie of conditions by rule order', async () => {
    const key = { authorization: `Bearer ${KEYS.teamA}` };
    expect(await servedBy('chat', key)).toBe('tenant');
    expect(await servedBy('chat', { ...key, 'x-tier': 'gold' })).toBe('gold');
    expect(await servedBy('chat', { authorization: `Bearer ${KEYS.teamB}` })).toBe('exact');
  });

  it('answers a catastrophic-backtracking pattern with a hostile header at once (RE2: linear time)', async () => {
    // A backtracking engine takes time exponential in the length of a run of a's not followed by the end.
    const started = performance.now();
    expect(await servedBy('chat', { 'x-evil': `${'a'.repeat(8000)}!` })).toBe('exact');
    expect(await servedBy('chat', { 'x-evil': 'a'.repeat(8000) })).toBe('evil');
    // Generous for a loaded machine; a backtracking engine would not finish 40 a's followed by '!' in an hour.
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});

describe('traffic splits', () => {
  it('sends exact shares: 3:1 over 400 requests is 300 and 100', async () => {
    const counts: Record<string, number> = {};
    for (let i = 0; i < 400; i++) {
      const pool = await servedBy('canary');
      counts[pool] = (counts[pool] ?? 0) + 1;
    }
    expect(counts).toEqual({ 'split-a': 300, 'split-b': 100 });
  });
});

describe('modelRewrite', () => {
  it('sends the backend’s model upstream and shows the rewritten name to the client, streamed or not', async () => {
    const post = (path: string, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
      fetch(`${proxy.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    const messages = [{ role: 'user', content: 'hi' }];
    const plain = (await (
      await post('/v1/chat/completions', { model: 'branded', max_tokens: 3, messages })
    ).json()) as {
      model: string;
    };
    expect(plain.model).toBe('acme-assistant');
    expect(sim.requests().at(-1)?.body).toMatchObject({ model: 'sim-model' });

    const stream = await (
      await post('/v1/chat/completions', { model: 'branded', max_tokens: 3, messages, stream: true })
    ).text();
    const chunks = stream.split('\n').filter((l) => l.startsWith('data: {'));
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks) expect(JSON.parse(c.slice(6)).model).toBe('acme-assistant');

    const claude = (await (
      await post('/v1/messages', { model: 'branded', max_tokens: 3, messages }, { 'anthropic-version': '2023-06-01' })
    ).json()) as { model: string };
    expect(claude.model).toBe('acme-assistant');
    const ollama = (await (await post('/api/chat', { model: 'branded', stream: false, messages })).json()) as {
      model: string;
    };
    expect(ollama.model).toBe('acme-assistant');
    // Without a rewrite the client sees the name it asked for, not the pool's.
    const own = (await (
      await post('/v1/chat/completions', { model: 'real-model', max_tokens: 3, messages })
    ).json()) as {
      model: string;
    };
    expect(own.model).toBe('real-model');
  });
});
