import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parseManifests } from '../../shared/src/manifests/parse.js';
import { translate } from '../../shared/src/translate/index.js';
import { type Served, serveApp } from '../../test/support/serve.js';
import { createApp } from './app.js';
import { Observers } from './call/observers.js';
import { SnapshotStore } from './config/store.js';
import { createGovernance } from './governance.js';
import { UpstreamPools } from './upstream/pools.js';

const manifests = `
apiVersion: switchyard.dev/v1alpha1
kind: LLMBackend
metadata: { name: b }
spec: { provider: vllm, endpoints: [{ url: "http://127.0.0.1:9/v1" }], models: [{ name: m1, upstreamName: org/M1 }] }
---
apiVersion: switchyard.dev/v1alpha1
kind: LLMPool
metadata: { name: p }
spec: { model: m1, aliases: [alias-1], backendRefs: [{ name: b }] }
`;

const served: Served[] = [];
afterEach(async () => {
  for (const s of served.splice(0)) await s.close();
});

/** The traffic app served over Node's http server, as the proxy serves it. */
async function setup(opts: { maxBodyBytes?: number; loaded?: boolean } = {}) {
  const store = new SnapshotStore();
  if (opts.loaded !== false) store.apply(translate(parseManifests(manifests)).config);
  const log = pino({ level: 'silent' });
  const observers = new Observers(log);
  const app = createApp({
    store,
    pools: new UpstreamPools(),
    log,
    observers,
    governance: createGovernance({ log, observers }),
    ...(opts.maxBodyBytes ? { limits: { maxBodyBytes: opts.maxBodyBytes } } : {}),
  });
  const server = await serveApp(app);
  served.push(server);
  const get = (path: string) => fetch(server.url + path);
  const post = (path: string, body: string) =>
    fetch(server.url + path, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  return { get, post };
}

async function openAIError(res: Response) {
  const body = (await res.json()) as {
    error: { message: string; type: string; param: string | null; code: string | null };
  };
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  return body.error;
}

describe('OpenAI surface errors', () => {
  it('answers malformed JSON with 400 invalid_json', async () => {
    const res = await (await setup()).post('/v1/chat/completions', '{"model": ');
    expect(res.status).toBe(400);
    expect(await openAIError(res)).toMatchObject({ type: 'invalid_request_error', code: 'invalid_json' });
  });

  it('answers a non-object body with 400', async () => {
    const res = await (await setup()).post('/v1/chat/completions', '[1,2]');
    expect(res.status).toBe(400);
  });

  it('names the invalid field in param', async () => {
    const res = await (await setup()).post(
      '/v1/chat/completions',
      JSON.stringify({ model: 'm1', messages: [{ role: 'user', content: 'x' }], temperature: 'hot' }),
    );
    expect(res.status).toBe(400);
    expect(await openAIError(res)).toMatchObject({ param: 'temperature' });
  });

  it('requires messages to be a non-empty array', async () => {
    const res = await (await setup()).post('/v1/chat/completions', JSON.stringify({ model: 'm1', messages: [] }));
    expect((await openAIError(res)).param).toBe('messages');
  });

  it('answers an unknown model with 404 model_not_found, listing no other model', async () => {
    const res = await (await setup()).post(
      '/v1/chat/completions',
      JSON.stringify({ model: 'gpt-nope', messages: [{ role: 'user', content: 'x' }] }),
    );
    expect(res.status).toBe(404);
    expect(res.headers.get('x-should-retry')).toBe('false');
    const err = await openAIError(res);
    expect(err).toMatchObject({ code: 'model_not_found', param: 'model' });
    expect(err.message).not.toContain('m1');
  });

  it('answers an oversized body with 413 before reading it all', async () => {
    const res = await (await setup({ maxBodyBytes: 1000 })).post(
      '/v1/chat/completions',
      JSON.stringify({ model: 'm1', messages: [{ role: 'user', content: 'x'.repeat(5000) }] }),
    );
    expect(res.status).toBe(413);
    expect((await openAIError(res)).code).toBe('request_too_large');
  });

  it('answers 503 not_ready before the first snapshot', async () => {
    const res = await (await setup({ loaded: false })).post(
      '/v1/chat/completions',
      JSON.stringify({ model: 'm1', messages: [{ role: 'user', content: 'x' }] }),
    );
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
  });

  it('answers unknown paths with a 404 in the OpenAI shape', async () => {
    const res = await (await setup()).get('/v1/nope');
    expect(res.status).toBe(404);
    expect((await openAIError(res)).message).toBe('Invalid URL (GET /v1/nope)');
  });

  it('answers 502 when the upstream is unreachable, after retrying', async () => {
    const res = await (await setup()).post(
      '/v1/chat/completions',
      JSON.stringify({ model: 'm1', messages: [{ role: 'user', content: 'x' }] }),
    );
    expect(res.status).toBe(502);
    expect((await openAIError(res)).code).toBe('upstream_unreachable');
  });
});

describe('GET /v1/models', () => {
  it('lists public model names and aliases, never upstream names', async () => {
    const res = await (await setup()).get('/v1/models');
    const body = (await res.json()) as { object: string; data: Array<{ id: string; object: string }> };
    expect(body.object).toBe('list');
    expect(body.data.map((m) => m.id)).toEqual(['alias-1', 'm1']);
    expect(JSON.stringify(body)).not.toContain('org/M1');
  });

  it('retrieves one model and 404s an unknown one', async () => {
    const { get } = await setup();
    expect(((await (await get('/v1/models/m1')).json()) as { id: string }).id).toBe('m1');
    expect((await get('/v1/models/org/unknown')).status).toBe(404);
  });
});
