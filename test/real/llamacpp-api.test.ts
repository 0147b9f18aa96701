/**
 * Real upstream, the newer API operations: `POST /v1/rerank` passed through to a real llama-server started with
 * `--reranking` (the tiny llama model has no classification head: llama.cpp's rank pooling then scores each
 * query–document pair by the first component of the last token's hidden state, which is enough to check the
 * protocol — ranked results, usage, the public model name — but not a meaningful ranking), and the 501 of a server
 * started without it relayed as an upstream error (502).
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureRequest } from '../support/metrics-scrape.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { type LlamaServer, startLlamaServer } from './llamacpp/index.js';
import { CHAT_MODEL, REAL_SETUP_TIMEOUT_MS, realManifests } from './support.js';

const RERANK_MODEL = 'tiny-rerank';

let chat: LlamaServer;
let reranker: LlamaServer;
let proxy: TestProxy;
let openai: OpenAI;

beforeAll(async () => {
  [chat, reranker] = await Promise.all([
    startLlamaServer({ parallel: 1 }),
    startLlamaServer({ parallel: 1, args: ['--reranking'] }),
  ]);
  proxy = await startTestProxy(`${realManifests({ chat: [chat] })}---
apiVersion: switchyard.dev/v1alpha1
kind: LLMBackend
metadata: { name: llama-rerank }
spec:
  provider: llamacpp
  endpoints: [{ url: "${reranker.url}/v1" }]
  models: [{ name: ${RERANK_MODEL} }]
---
apiVersion: switchyard.dev/v1alpha1
kind: LLMPool
metadata: { name: rerank }
spec: { model: ${RERANK_MODEL}, backendRefs: [{ name: llama-rerank }] }
`);
  openai = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'unused', maxRetries: 0 });
}, REAL_SETUP_TIMEOUT_MS);

afterAll(async () => {
  await proxy?.stop();
  await Promise.all([chat?.stop(), reranker?.stop()]);
});

interface RerankAnswer {
  model: string;
  object: string;
  results: { index: number; relevance_score: number }[];
  usage: { prompt_tokens: number; total_tokens: number };
}

const documents = ['a cat is an animal', 'paris is in france', 'dogs bark', 'the sea is blue'];

describe('rerank → proxy → llama-server --reranking', () => {
  it('ranks the documents, keeps top_n, reports usage and the public model name', async () => {
    const r = await openai.post<RerankAnswer>('/rerank', {
      body: { model: RERANK_MODEL, query: 'what is a cat', documents, top_n: 3 },
    });
    expect(r.model).toBe(RERANK_MODEL);
    expect(r.object).toBe('list');
    expect(r.results).toHaveLength(3);
    const scores = r.results.map((x) => x.relevance_score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    expect(new Set(r.results.map((x) => x.index)).size).toBe(3);
    expect(r.usage.prompt_tokens).toBeGreaterThan(documents.length);
  });

  it('counts the tokens the server evaluated', async () => {
    const { res, body, delta } = await measureRequest(proxy.adminUrl, () =>
      fetch(`${proxy.url}/v1/rerank`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: RERANK_MODEL, query: 'sea colour', documents }),
      }),
    );
    expect(res.status).toBe(200);
    const answer = JSON.parse(body) as RerankAnswer;
    expect(answer.results).toHaveLength(documents.length);
    expect(delta.of('switchyard_tokens_total', { model: RERANK_MODEL, type: 'input' })).toBe(
      answer.usage.prompt_tokens,
    );
  });

  it('relays the 501 of a server started without --reranking as an upstream error', async () => {
    const err = await openai
      .post('/rerank', { body: { model: CHAT_MODEL, query: 'q', documents: ['a'] } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    // Upstream 5xx answers reach clients as 502 with the upstream's message (501 is not retried).
    expect(err).toMatchObject({ status: 502, message: expect.stringContaining('--reranking') });
  });
});
