import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait.js';
import { chat, postJson, readUntilError } from './helpers.js';
import { type Simulator, startSimulator } from './index.js';

describe('simulator faults', () => {
  let sim: Simulator;
  let url: string;
  beforeAll(async () => {
    sim = await startSimulator({ flavour: 'vllm' });
    url = `${sim.url}/v1/chat/completions`;
  });
  afterEach(() => {
    sim.setFaults(null);
    sim.setTiming({ ttftMs: 0, itlMs: 0 });
    sim.resetStats();
  });
  afterAll(() => sim.close());

  it('answers a per-request status fault in the flavour shape with Retry-After', async () => {
    const r = await postJson(url, chat('x'), { 'x-sim-fault': 'status=503; retry-after=2' });
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('2');
    expect(await r.json()).toEqual({
      error: { message: 'Service Unavailable', type: 'ServiceUnavailableError', param: null, code: 503 },
    });
    expect(sim.stats().faultsInjected).toBe(1);
  });

  it('applies an instance fault to the next `count` inference requests only', async () => {
    sim.setFaults({ status: 500, count: 2, message: 'boom' });
    const health = await fetch(`${sim.url}/health`);
    expect(health.status).toBe(200);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await postJson(url, chat('x'))).status);
    expect(statuses).toEqual([500, 500, 200]);
    expect(await (await fetch(`${sim.url}/_sim/faults`)).json()).toBeNull();
  });

  it('targets paths, honours rate 0 and is settable over HTTP', async () => {
    const set = await postJson(`${sim.url}/_sim/faults`, { status: 503, paths: ['/health'] });
    expect(set.status).toBe(200);
    expect((await fetch(`${sim.url}/health`)).status).toBe(503);
    expect((await postJson(url, chat('x'))).status).toBe(200);
    expect((await postJson(`${sim.url}/_sim/faults`, { status: 'bad' })).status).toBe(400);
    sim.setFaults({ status: 500, rate: 0 });
    expect((await postJson(url, chat('x'))).status).toBe(200);
    expect((await fetch(`${sim.url}/_sim/faults`, { method: 'DELETE' })).status).toBe(200);
  });

  it('reads faults from a [sim …] directive in the prompt (survives header-stripping proxies)', async () => {
    const r = await postJson(url, chat('hello [sim status=429; retry-after=1]'));
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('1');
  });

  it('resets the connection after n streamed chunks', async () => {
    sim.setTiming({ itlMs: 2 });
    const r = await postJson(url, chat('x', { stream: true }), { 'x-sim-fault': 'reset-after=3' });
    expect(r.status).toBe(200);
    const { text, error } = await readUntilError(r);
    expect(error).toBeTruthy();
    const frames = text.split('\n\n').filter(Boolean);
    expect(frames).toHaveLength(4); // role chunk + 3 token chunks
    expect(text).not.toContain('[DONE]');
    await waitFor(() => sim.stats().running === 0);
    expect(sim.stats().abortedByClient).toBe(0);
  });

  it('resets a non-streaming request instead of answering', async () => {
    await expect(postJson(url, chat('x'), { 'x-sim-fault': 'reset-after=0' })).rejects.toThrow();
  });

  it('hangs until the client gives up, and counts the abort', async () => {
    const ac = new AbortController();
    const pending = postJson(url, chat('x'), { 'x-sim-fault': 'hang' }, ac.signal);
    await waitFor(() => sim.stats().hanging === 1);
    ac.abort();
    await expect(pending).rejects.toThrow();
    await waitFor(() => sim.stats().abortedByClient === 1);
    expect(sim.stats().hanging).toBe(0);
  });

  it('delays the first byte with slow-first-byte-ms', async () => {
    const t0 = performance.now();
    const r = await postJson(url, chat('x'), { 'x-sim-fault': 'slow-first-byte-ms=120' });
    expect(r.status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(110);
  });

  it('closes a stream cleanly without finish chunk or [DONE]', async () => {
    const r = await postJson(url, chat('x', { stream: true }), { 'x-sim-fault': 'close-without-done' });
    const { text, error } = await readUntilError(r);
    expect(error).toBeNull();
    expect(text).toMatch(/^data: /);
    expect(text).not.toContain('finish_reason":"');
    expect(text).not.toContain('[DONE]');
    expect(text.split('\n\n').filter(Boolean)).toHaveLength(17);
  });

  it('sends a vLLM in-stream error (followed by [DONE], as vLLM does)', async () => {
    const r = await postJson(url, chat('x', { stream: true }), { 'x-sim-fault': 'mid-stream-error=2' });
    const frames = (await r.text()).split('\n\n').filter(Boolean);
    expect(frames).toHaveLength(5);
    expect(JSON.parse(frames[3]!.slice(6))).toMatchObject({ error: { type: 'InternalServerError', code: 500 } });
    expect(frames[4]).toBe('data: [DONE]');
  });
});

describe('simulator faults seen through the SDKs', () => {
  it('openai: 429 with retry-after-ms; in-stream error raises APIError', async () => {
    const sim = await startSimulator({ flavour: 'openai' });
    try {
      sim.setFaults({ status: 429, retryAfter: 1.5, count: 1 });
      const raw = await postJson(`${sim.url}/v1/chat/completions`, chat('x'));
      expect(raw.status).toBe(429);
      expect(raw.headers.get('retry-after')).toBe('2');
      expect(raw.headers.get('retry-after-ms')).toBe('1500');
      expect(await raw.json()).toMatchObject({ error: { type: 'requests', code: 'rate_limit_exceeded' } });
      const client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'k', maxRetries: 0 });
      const stream = await client.chat.completions.create(
        { model: 'sim-model', messages: [{ role: 'user', content: 'x' }], stream: true },
        { headers: { 'x-sim-fault': 'mid-stream-error' } },
      );
      const consume = async () => {
        for await (const _ of stream) {
          // drain
        }
      };
      await expect(consume()).rejects.toBeInstanceOf(OpenAI.APIError);
    } finally {
      await sim.close();
    }
  });

  it('anthropic: event: error overloaded_error mid-stream raises in the SDK', async () => {
    const sim = await startSimulator({ flavour: 'anthropic' });
    try {
      const client = new Anthropic({ baseURL: sim.url, apiKey: 'k', maxRetries: 0 });
      const stream = client.messages.stream(
        { model: 'sim-model', max_tokens: 50, messages: [{ role: 'user', content: 'x' }] },
        { headers: { 'x-sim-fault': 'mid-stream-error=3' } },
      );
      const err = await stream.finalMessage().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Anthropic.APIError);
      expect(String(err)).toContain('overloaded_error');
      const raw = await postJson(
        `${sim.url}/v1/messages`,
        { model: 'sim-model', max_tokens: 5, stream: true, messages: [{ role: 'user', content: 'x' }] },
        { 'anthropic-version': '2023-06-01', 'x-sim-fault': 'mid-stream-error=1' },
      );
      const text = await raw.text();
      expect(
        text.endsWith(
          'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n',
        ),
      ).toBe(true);
    } finally {
      await sim.close();
    }
  });
});
