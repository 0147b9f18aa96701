/**
 * `POST /v1/rerank` end to end through the `openai` SDK's generic client: passed through to vLLM and llama.cpp
 * simulators (public model name, usage counted, retried on another replica), a rate limit of a RoutePolicy applied like
 * on every operation, and a 400 before any attempt for providers without a rerank API (OpenAI, Anthropic, Ollama).
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../sim/index.js';
import { measureRequest } from '../support/metrics-scrape.js';
import { poolManifests, startTestProxy, type TestProxy } from '../support/proxy.js';
import { routePolicy } from './governance-fixtures.js';

interface RerankAnswer {
  model: string;
  results: { index: number; relevance_score: number; document?: { text: string } }[];
  usage: { prompt_tokens: number; total_tokens: number };
}

let vllm: Simulator[];
let llama: Simulator;
let others: Simulator[];
let proxy: TestProxy;
let client: OpenAI;

const documents = ['Paris is the capital of France', 'Cats sleep a lot', 'The capital of Spain is Madrid'];
const rerank = (model: string, extra: Record<string, unknown> = {}) =>
  client.post<RerankAnswer>('/rerank', { body: { model, query: 'capital of France', documents, ...extra } });

beforeAll(async () => {
  vllm = await Promise.all([0, 1].map(() => startSimulator({ flavour: 'vllm', models: ['org/Rerank'] })));
  llama = await startSimulator({ flavour: 'llamacpp', reranking: true });
  others = await Promise.all([
    startSimulator({ flavour: 'openai', models: ['gpt-x'] }),
    startSimulator({ flavour: 'anthropic', models: ['claude-x'] }),
    startSimulator({ flavour: 'ollama', models: ['qwen'] }),
  ]);
  const [openaiSim, claudeSim, ollamaSim] = others as [Simulator, Simulator, Simulator];
  proxy = await startTestProxy(
    [
      poolManifests({
        name: 'vllm',
        model: 'rerank',
        upstreamName: 'org/Rerank',
        urls: vllm.map((s) => `${s.url}/v1`),
      }),
      poolManifests({ name: 'llama', model: 'rerank-llama', provider: 'llamacpp', urls: [llama.url] }),
      poolManifests({
        name: 'limited',
        model: 'rerank-limited',
        upstreamName: 'org/Rerank',
        urls: [`${vllm[0]?.url}/v1`],
      }),
      routePolicy(
        'limited',
        '  rules: [{ match: { model: { value: rerank-limited } } }]\n  rateLimits: [{ scope: global, limits: { requestsPerMinute: 1 } }]',
      ),
      poolManifests({ name: 'oai', model: 'gpt', upstreamName: 'gpt-x', provider: 'openai', urls: [openaiSim.url] }),
      poolManifests({
        name: 'claude',
        model: 'claude',
        upstreamName: 'claude-x',
        provider: 'anthropic',
        urls: [claudeSim.url],
      }),
      poolManifests({
        name: 'ollama',
        model: 'ollama',
        upstreamName: 'qwen',
        provider: 'ollama',
        urls: [ollamaSim.url],
      }),
    ].join('\n---\n'),
  );
  client = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await proxy?.stop();
  await Promise.all([...vllm, llama, ...others].map((s) => s?.close()));
});

describe('rerank through the proxy', () => {
  it('passes a rerank through to vLLM with the upstream model name and reports the public one', async () => {
    const r = await rerank('rerank', { top_n: 2 });
    expect(r.model).toBe('rerank');
    expect(r.results.map((x) => x.index)).toEqual([0, 2]);
    expect(r.results[0]?.document?.text).toBe(documents[0]);
    expect(r.usage.prompt_tokens).toBeGreaterThan(0);
    const sent = vllm.flatMap((s) => s.requests()).filter((q) => q.path === '/v1/rerank');
    expect(sent.at(-1)?.body).toMatchObject({ model: 'org/Rerank', query: 'capital of France', top_n: 2 });
  });

  it('retries a failed rerank on another replica and counts its input tokens in the metrics', async () => {
    for (const s of vllm) s.setFaults({ status: 503, count: 1 });
    const { data, response } = await client
      .post<RerankAnswer>('/rerank', { body: { model: 'rerank', query: 'x', documents } })
      .withResponse();
    expect(data.results).toHaveLength(3);
    // Each replica failed once: the third attempt, back on the first replica, succeeded.
    expect(response.headers.get('x-switchyard-attempts')).toBe('3');
    expect(vllm.map((s) => s.stats().faultsInjected)).toEqual([1, 1]);
    const { res, body, delta } = await measureRequest(proxy.adminUrl, () =>
      fetch(`${proxy.url}/v1/rerank`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'rerank', query: 'q', documents: ['a b', 'c'] }),
      }),
    );
    expect(res.status).toBe(200);
    const input = (JSON.parse(body) as RerankAnswer).usage.prompt_tokens;
    expect(delta.of('switchyard_tokens_total', { model: 'rerank', type: 'input' })).toBe(input);
    expect(delta.of('switchyard_requests_total', { surface: 'openai', model: 'rerank', status_class: '2xx' })).toBe(1);
  });

  it("serves llama.cpp's rerank shape, sorted by relevance", async () => {
    const r = await rerank('rerank-llama');
    expect(r.model).toBe('rerank-llama');
    expect(r.results).toHaveLength(3);
    const scores = r.results.map((x) => x.relevance_score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    expect(r.results[0]?.index).toBe(0);
  });

  it("applies a RoutePolicy's rate limit to reranks", async () => {
    await rerank('rerank-limited');
    const err = await rerank('rerank-limited').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
  });

  it('refuses providers without a rerank API with a 400 before any attempt', async () => {
    for (const s of others) s.resetStats();
    for (const model of ['gpt', 'claude', 'ollama']) {
      const err = await rerank(model).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.BadRequestError);
      expect(err).toMatchObject({ message: expect.stringContaining('does not support this operation') });
    }
    expect(others.map((s) => s.stats().requests)).toEqual([0, 0, 0]);
  });

  it('validates the body: documents must be a non-empty list and the query present', async () => {
    for (const body of [
      { model: 'rerank', query: 'q', documents: [] },
      { model: 'rerank', documents: ['a'] },
      { model: 'rerank', query: 'q', documents: 'a' },
      { model: 'rerank', query: 'q', documents: ['a'], top_n: -1 },
    ]) {
      const err = await client.post('/rerank', { body }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    }
  });
});
