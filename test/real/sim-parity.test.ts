/**
 * Keeps the simulator honest: the same requests go to the simulator's llama.cpp flavour and to a real llama-server
 * (and its embeddings twin), and the answers must have the same shape: status codes, media types, JSON keys and value
 * types, stream event order and the keys of each event, `/metrics` names, `/slots` fields, the loading answer.
 * Values (text, ids, timings) are free to differ.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../sim/index.js';
import { type LlamaServer, startLlamaServer } from './llamacpp/index.js';
import { answerShape, metricNames, skeleton, streamShape } from './shapes.js';
import { fetchFresh, REAL_SETUP_TIMEOUT_MS } from './support.js';

let real: LlamaServer;
let realEmbed: LlamaServer;
let realRerank: LlamaServer;
let sim: Simulator;
let simRerank: Simulator;

beforeAll(async () => {
  [real, realEmbed, realRerank] = await Promise.all([
    startLlamaServer(),
    startLlamaServer({ embeddings: true, parallel: 1 }),
    startLlamaServer({ parallel: 1, args: ['--reranking'] }),
  ]);
  // Like the real servers: two slots of 2048 tokens.
  sim = await startSimulator({
    flavour: 'llamacpp',
    models: ['m'],
    maxConcurrency: 2,
    maxModelLen: 2048,
    recordLimit: 0,
  });
  simRerank = await startSimulator({ flavour: 'llamacpp', models: ['m'], reranking: true, recordLimit: 0 });
}, REAL_SETUP_TIMEOUT_MS);

afterAll(async () => {
  await Promise.all([sim?.close(), simRerank?.close()]);
  await Promise.all([real?.stop(), realEmbed?.stop(), realRerank?.stop()]);
});

const post = (base: string, path: string, body: unknown) =>
  fetchFresh(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

const chat = { model: 'm', messages: [{ role: 'user', content: 'Hello there' }], max_tokens: 4 };
const completion = { model: 'm', prompt: 'Once upon a time', max_tokens: 4 };

/** Runs `request` against both servers and returns [simulator, real] shapes. */
async function both<T>(request: (base: string) => Promise<T>, realBase = () => real.url): Promise<[T, T]> {
  return [await request(sim.url), await request(realBase())];
}

describe('simulator llama.cpp flavour vs real llama-server', () => {
  it('GET /health, /v1/models, /models, /props and an unknown path', async () => {
    for (const path of ['/health', '/v1/models', '/models', '/props', '/no-such-path']) {
      const [s, r] = await both((base) => fetchFresh(base + path).then(answerShape));
      expect(s, path).toEqual(r);
    }
  });

  it('/metrics: the same names', async () => {
    const [s, r] = await both((base) => fetchFresh(`${base}/metrics`).then((res) => res.text()));
    expect(metricNames(s)).toEqual(metricNames(r));
  });

  it('/slots: the same fields, idle and busy', async () => {
    const [s, r] = await both((base) => fetchFresh(`${base}/slots`).then((res) => res.json()));
    expect(skeleton(s)).toEqual(skeleton(r));
    // After a request a slot reports what it held.
    await both((base) => post(base, '/v1/chat/completions', chat).then((res) => res.text()));
    const [s2, r2] = await both((base) =>
      fetchFresh(`${base}/slots`).then(async (res) => (await res.json()) as Array<Record<string, unknown>>),
    );
    const used = (slots: Array<Record<string, unknown>>) => slots.find((x) => 'id_task' in x);
    expect(skeleton(used(s2))).toEqual(skeleton(used(r2)));
  });

  it('chat completions, streamed and not, with and without usage', async () => {
    const [s, r] = await both((base) => post(base, '/v1/chat/completions', chat).then(answerShape));
    expect(s).toEqual(r);
    for (const extra of [{}, { stream_options: { include_usage: true } }]) {
      const [ss, rs] = await both((base) =>
        post(base, '/v1/chat/completions', { ...chat, stream: true, ...extra }).then(streamShape),
      );
      expect(ss).toEqual(rs);
    }
  });

  it('legacy completions, streamed and not', async () => {
    const [s, r] = await both((base) => post(base, '/v1/completions', completion).then(answerShape));
    expect(s).toEqual(r);
    const [ss, rs] = await both((base) =>
      post(base, '/v1/completions', { ...completion, stream: true }).then(streamShape),
    );
    expect(ss).toEqual(rs);
  });

  it('embeddings', async () => {
    const [s, r] = await both(
      (base) => post(base, '/v1/embeddings', { model: 'm', input: ['a', 'b c'] }).then(answerShape),
      () => realEmbed.url,
    );
    expect(s).toEqual(r);
  });

  it('rerank: the 501 without --reranking, ranked results with it, its validation errors', async () => {
    const body = { model: 'm', query: 'a cat', documents: ['a cat', 'a dog', 'the sea'], top_n: 2 };
    const [s, r] = await both((base) => post(base, '/v1/rerank', body).then(answerShape));
    expect(s).toEqual(r);
    for (const b of [body, { ...body, top_n: undefined }, { model: 'm', documents: ['a'] }, { query: 'q' }]) {
      const [sr, rr] = [
        await post(simRerank.url, '/v1/rerank', b).then(answerShape),
        await post(realRerank.url, '/v1/rerank', b).then(answerShape),
      ];
      expect(sr, JSON.stringify(b)).toEqual(rr);
    }
  });

  it('errors: bad JSON, no messages, a context overflow', async () => {
    const requests: Array<[string, unknown]> = [
      ['/v1/chat/completions', '{not json'],
      ['/v1/chat/completions', { model: 'm' }],
      ['/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'word '.repeat(3000) }] }],
    ];
    for (const [path, body] of requests) {
      const [s, r] = await both((base) => post(base, path, body).then(answerShape));
      expect(s, JSON.stringify(body).slice(0, 40)).toEqual(r);
    }
  });

  it(
    'the loading answer',
    async () => {
      sim.setLoading(true);
      await real.restart({ gated: true });
      try {
        for (const path of ['/health', '/v1/models', '/metrics']) {
          const [s, r] = await both((base) => fetchFresh(base + path).then(answerShape));
          expect(s, path).toEqual(r);
        }
        const [s, r] = await both((base) => post(base, '/v1/chat/completions', chat).then(answerShape));
        expect(s).toEqual(r);
      } finally {
        sim.setLoading(false);
        await real.finishLoading();
      }
    },
    REAL_SETUP_TIMEOUT_MS,
  );
});
