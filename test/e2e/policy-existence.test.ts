/**
 * No existence oracle: without valid credentials, a model that exists (but is protected) and one that does not get
 * the same answer — status, headers and body but for the name — on every surface and endpoint that takes a model
 * name, and model lists show neither.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../sim/index.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { backendAndPool, KEYS_SECRET, routePolicy } from './governance-fixtures.js';

// Names of equal length, so lengths cannot tell them apart either.
const KNOWN = 'secret-model';
const UNKNOWN = 'absent-model';

let sim: Simulator;
let proxy: TestProxy;

beforeAll(async () => {
  sim = await startSimulator({ flavour: 'vllm' });
  proxy = await startTestProxy(
    [
      KEYS_SECRET,
      backendAndPool('secret', KNOWN, [sim.url]),
      backendAndPool('open', 'open-model', [sim.url]),
      routePolicy(
        'protected',
        `  rules: [{ match: { model: { value: ${KNOWN} } } }]
  tenants: [{ name: team-a, apiKeys: [{ name: api-keys, key: team-a }] }]`,
      ),
    ].join(''),
  );
});

afterAll(async () => {
  await proxy?.stop();
  await sim?.close();
});

const anthropic = { 'anthropic-version': '2023-06-01' };
const messages = [{ role: 'user', content: 'hi' }];

/** Every endpoint that names a model: method, path, extra headers and body for model `m`. */
const ENDPOINTS: [string, string, Record<string, string>, ((m: string) => unknown) | undefined][] = [
  ['POST', '/v1/chat/completions', {}, (m) => ({ model: m, messages })],
  ['POST', '/v1/completions', {}, (m) => ({ model: m, prompt: 'hi' })],
  ['POST', '/v1/embeddings', {}, (m) => ({ model: m, input: 'hi' })],
  ['POST', '/v1/messages', anthropic, (m) => ({ model: m, max_tokens: 3, messages })],
  ['POST', '/v1/messages/count_tokens', anthropic, (m) => ({ model: m, messages })],
  ['POST', '/api/chat', {}, (m) => ({ model: m, messages })],
  ['POST', '/api/generate', {}, (m) => ({ model: m, prompt: 'hi' })],
  ['POST', '/api/embed', {}, (m) => ({ model: m, input: 'hi' })],
  ['POST', '/api/embeddings', {}, (m) => ({ model: m, prompt: 'hi' })],
  ['POST', '/api/show', {}, (m) => ({ model: m })],
  ['GET', '/v1/models/{m}', {}, undefined],
  ['GET', '/v1/models/{m}', anthropic, undefined],
];

/** The answer to `model` as comparable text: status, headers but the per-request ones, body with the name masked. */
async function answer(method: string, path: string, headers: Record<string, string>, body: unknown, model: string) {
  const res = await fetch(`${proxy.url}${path.replace('{m}', model)}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = (await res.text()).replaceAll(model, 'MODEL').replace(/"request_id":"[^"]*"/, '"request_id":"ID"');
  const perRequest = new Set(['date', 'x-request-id', 'request-id']);
  const kept = [...res.headers.entries()].filter(([k]) => !perRequest.has(k));
  return { status: res.status, headers: Object.fromEntries(kept), text };
}

describe('no existence oracle', () => {
  const attempts: Record<string, string>[] = [
    {},
    { authorization: 'Bearer sk-not-a-key-0000' },
    { 'x-api-key': 'sk-not-a-key' },
  ];
  for (const credentials of attempts) {
    const who = Object.keys(credentials)[0] ?? 'no key';
    it.each(ENDPOINTS)(`${who}: %s %s (%o) answers a known and an unknown model alike`, async (m, path, h, body) => {
      const headers = { ...h, ...credentials };
      const known = await answer(m, path, headers, body?.(KNOWN), KNOWN);
      const unknown = await answer(m, path, headers, body?.(UNKNOWN), UNKNOWN);
      expect(known.status).toBe(401);
      expect(known).toEqual(unknown);
    });
  }

  it('lists only what an anonymous caller may call, on every list', async () => {
    for (const headers of [{}, anthropic]) {
      const res = await fetch(`${proxy.url}/v1/models`, { headers });
      expect(JSON.stringify(await res.json())).not.toContain(KNOWN);
    }
    const tags = (await (await fetch(`${proxy.url}/api/tags`)).json()) as { models: { name: string }[] };
    expect(tags.models.map((m) => m.name)).toEqual(['open-model']);
  });
});
