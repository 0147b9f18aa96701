/**
 * Real upstream lifecycle: llama-server's own 503 "Loading model" while it loads (held there by load-gate.c), a
 * replica restarted while it loads taking live traffic through the proxy (marked loading at once: no retry to it,
 * another replica answers, or a 503 with Retry-After when none can; GET /config/endpoints says so), and a server
 * killed mid-stream (every SDK raises instead of ending quietly).
 */
import Anthropic from '@anthropic-ai/sdk';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { waitFor } from '../support/wait.js';
import type { LlamaServer } from './llamacpp/index.js';
import { CHAT_MODEL, fetchFresh, perTest, REAL_SETUP_TIMEOUT_MS, realManifests } from './support.js';

const t = perTest();
const start = (n: number) => t.start(n);

interface EndpointView {
  id: string;
  health: string;
  loading: boolean;
  available: boolean;
  lastCheckError: string | null;
}
const endpointsOf = async (p: TestProxy): Promise<EndpointView[]> => {
  const body = (await (await fetch(`${p.adminUrl}/config/endpoints`)).json()) as {
    pools: Array<{ pool: string; tiers: Array<{ endpoints: EndpointView[] }> }>;
  };
  return body.pools.filter((x) => x.pool.endsWith('chat')).flatMap((x) => x.tiers.flatMap((t) => t.endpoints));
};

const chatRequest = (p: TestProxy, content = 'hello') =>
  fetch(`${p.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: CHAT_MODEL, messages: [{ role: 'user', content }], max_tokens: 2 }),
  });

/** Sends a chat request, expects a 200 and returns `<endpoint> after <attempts>`. */
async function sendAndNote(p: TestProxy, i: number): Promise<string> {
  const res = await chatRequest(p, `request ${i}`);
  expect(res.status).toBe(200);
  await res.arrayBuffer();
  return `${res.headers.get('x-switchyard-endpoint')} after ${res.headers.get('x-switchyard-attempts')}`;
}

// Health checks far apart: only live traffic can notice the restart in these tests.
const slowChecks = '{ interval: 60s, timeout: 2s }';

describe('llama-server while it loads', () => {
  it(
    'answers 503 "Loading model" on /health and every API path, then 200 once loaded',
    async () => {
      const [server] = (await start(1)) as [LlamaServer];
      await server.restart({ gated: true });
      const health = await fetchFresh(`${server.url}/health`);
      expect(health.status).toBe(503);
      expect(await health.json()).toEqual({
        error: { code: 503, message: 'Loading model', type: 'unavailable_error' },
      });
      for (const path of ['/v1/models', '/metrics', '/slots'])
        expect((await fetchFresh(server.url + path)).status).toBe(503);
      const chat = await fetchFresh(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 }),
      });
      expect(chat.status).toBe(503);
      await server.finishLoading();
      const ok = await fetchFresh(`${server.url}/health`);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ status: 'ok' });
    },
    REAL_SETUP_TIMEOUT_MS,
  );

  it(
    'a replica restarted while it loads: marked loading at once, the other replica answers, back once loaded',
    async () => {
      const [a, b] = (await start(2)) as [LlamaServer, LlamaServer];
      t.proxy = await startTestProxy(realManifests({ chat: [a, b], healthCheck: slowChecks }));
      const p = t.proxy;
      await waitFor(async () => (await endpointsOf(p)).every((e) => e.health === 'healthy'), 10_000, 'first checks');
      await a.restart({ gated: true });
      // Every request succeeds on the loaded replica. The first one sent to the loading replica is answered by the
      // other after one failed attempt; after that the loading one is not asked again.
      const served: string[] = [];
      for (let i = 0; i < 40 && !served.some((x) => x.endsWith('after 2')); i++) served.push(await sendAndNote(p, i));
      expect(served.filter((x) => x.endsWith('after 2'))).toHaveLength(1);
      const later: string[] = [];
      for (let i = 0; i < 8; i++) later.push(await sendAndNote(p, 100 + i));
      expect([...served, ...later].every((x) => x.startsWith('llama/1 '))).toBe(true);
      expect(later.every((x) => x.endsWith('after 1'))).toBe(true);
      const loading = (await endpointsOf(p)).find((e) => e.id === 'llama/0');
      expect(loading).toMatchObject({ loading: true, available: false });
      await a.finishLoading();
      // Back in rotation once it answers: the checker looks at a replica marked loading without waiting an interval.
      await waitFor(
        async () => (await endpointsOf(p)).find((e) => e.id === 'llama/0')?.available === true,
        15_000,
        'the restarted replica back',
      );
      expect((await endpointsOf(p)).find((e) => e.id === 'llama/0')).toMatchObject({
        loading: false,
        health: 'healthy',
      });
    },
    REAL_SETUP_TIMEOUT_MS,
  );

  it(
    'the only replica restarted while it loads: one attempt, then 503 with Retry-After (not 502)',
    async () => {
      const [a] = (await start(1)) as [LlamaServer];
      t.proxy = await startTestProxy(realManifests({ chat: [a], healthCheck: slowChecks }));
      const p = t.proxy;
      await waitFor(async () => (await endpointsOf(p))[0]?.health === 'healthy', 10_000, 'first check');
      await a.restart({ gated: true });
      const res = await chatRequest(p);
      expect(res.status).toBe(503);
      expect(res.headers.get('x-switchyard-attempts')).toBe('1');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('upstream_loading');
      expect((await endpointsOf(p))[0]).toMatchObject({ loading: true, available: false });
      // Still loading: the proxy answers at once without asking it again.
      const again = await chatRequest(p);
      expect(again.status).toBe(503);
      expect(again.headers.get('x-switchyard-attempts')).toBeNull();
      await again.arrayBuffer();
      await a.finishLoading();
      await waitFor(async () => (await chatRequest(p)).status === 200, 15_000, 'served again');
    },
    REAL_SETUP_TIMEOUT_MS,
  );
});

describe('llama-server killed mid-stream', () => {
  // Answers far longer than the test needs (seconds of generation): a loaded machine must not let one end before the
  // kill, which would make the stream end quietly.
  const LONG = 15_000;
  const longChat = { model: CHAT_MODEL, max_tokens: LONG, ignore_eos: true } as const;

  it(
    'the OpenAI, Anthropic and ollama SDKs raise',
    async () => {
      const [server] = (await t.start(1, { parallel: 1, ctx: 16_384 })) as [LlamaServer];
      t.proxy = await startTestProxy(realManifests({ chat: [server], healthCheck: slowChecks }));
      const p = t.proxy;
      const consumeThenKill = async (stream: AsyncIterable<unknown>): Promise<unknown> => {
        let n = 0;
        try {
          for await (const _ of stream) if (++n === 3) await server.kill();
        } catch (e) {
          return e;
        }
        throw new Error(`the stream ended quietly after ${n} events`);
      };

      const openai = new OpenAI({ baseURL: `${p.url}/v1`, apiKey: 'unused', maxRetries: 0 });
      const e1 = await consumeThenKill(
        await openai.chat.completions.create({
          ...longChat,
          messages: [{ role: 'user', content: 'a long story' }],
          stream: true,
        } as OpenAI.Chat.Completions.ChatCompletionCreateParamsStreaming),
      );
      expect(e1).toBeInstanceOf(Error);

      await server.restart();
      const anthropic = new Anthropic({ baseURL: p.url, apiKey: 'unused', maxRetries: 0 });
      // The raw event stream (`create({stream: true})`): the `stream()` helper's iterator ends quietly when the error
      // arrives while no read is pending, and reports it only through its events and `finalMessage()`.
      const e2 = await consumeThenKill(
        await anthropic.messages.create({
          model: CHAT_MODEL,
          max_tokens: LONG,
          messages: [{ role: 'user', content: 'long' }],
          stream: true,
        }),
      );
      expect(e2).toBeInstanceOf(Anthropic.APIError);

      await server.restart();
      const ollama = new Ollama({ host: p.url });
      const e3 = await consumeThenKill(
        await ollama.chat({
          model: CHAT_MODEL,
          messages: [{ role: 'user', content: 'long' }],
          stream: true,
          options: { num_predict: LONG },
        }),
      );
      expect(e3).toBeInstanceOf(Error);
    },
    REAL_SETUP_TIMEOUT_MS,
  );
});
