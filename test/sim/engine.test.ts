import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait.js';
import { chat, metricValue, postJson, readUntilError } from './helpers.js';
import { type Simulator, startSimulator } from './index.js';

const running: Simulator[] = [];
async function sim(opts: Parameters<typeof startSimulator>[0]): Promise<Simulator> {
  const s = await startSimulator(opts);
  running.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.kill()));
});

/** A request that generates for a long time (until aborted) and holds a slot. */
function longRequest(s: Simulator): AbortController {
  const ac = new AbortController();
  const body = chat('long', { stream: true });
  postJson(`${s.url}/v1/chat/completions`, body, { 'x-sim-output-tokens': '2000' }, ac.signal).catch(() => {});
  return ac;
}

const metrics = async (s: Simulator) => (await fetch(`${s.url}/metrics`)).text();
const gauge = (text: string, name: string) => metricValue(text, `vllm:${name}{`);

describe('simulator engine: concurrency, queue, loading, aborts, lifecycle', () => {
  it('runs maxConcurrency requests and queues the rest (vllm:num_requests_waiting)', async () => {
    const s = await sim({ flavour: 'vllm', maxConcurrency: 1, itlMs: 5 });
    const long = longRequest(s);
    await waitFor(() => s.stats().running === 1);
    const queued = [1, 2].map(() => postJson(`${s.url}/v1/chat/completions`, chat('x')));
    await waitFor(() => s.stats().waiting === 2);
    const text = await metrics(s);
    expect(gauge(text, 'num_requests_running')).toBe(1);
    expect(gauge(text, 'num_requests_waiting')).toBe(2);
    long.abort();
    expect((await Promise.all(queued)).map((r) => r.status)).toEqual([200, 200]);
    expect(s.stats()).toMatchObject({ running: 0, waiting: 0, completed: 2, abortedByClient: 1 });
    // the most requests it held at once: one running and two waiting; a reset starts over from what runs now
    expect(s.stats().peakConcurrent).toBe(3);
    s.resetStats();
    expect(s.stats().peakConcurrent).toBe(0);
  });

  it('answers 503 (Anthropic 529) when the waiting queue is full', async () => {
    const s = await sim({ flavour: 'vllm', maxConcurrency: 1, maxQueue: 1, itlMs: 5 });
    const long = longRequest(s);
    await waitFor(() => s.stats().running === 1);
    const second = postJson(`${s.url}/v1/chat/completions`, chat('x'));
    await waitFor(() => s.stats().waiting === 1);
    const third = await postJson(`${s.url}/v1/chat/completions`, chat('x'));
    expect(third.status).toBe(503);
    long.abort();
    expect((await second).status).toBe(200);
    const a = await sim({ flavour: 'anthropic', maxConcurrency: 1, maxQueue: 0, itlMs: 5 });
    const body = { model: 'sim-model', max_tokens: 4000, messages: [{ role: 'user', content: 'x' }] };
    const h = { 'anthropic-version': '2023-06-01' };
    const busy = new AbortController();
    postJson(`${a.url}/v1/messages`, body, { ...h, 'x-sim-output-tokens': '2000' }, busy.signal).catch(() => {});
    await waitFor(() => a.stats().running === 1);
    const rejected = await postJson(`${a.url}/v1/messages`, body, h);
    expect(rejected.status).toBe(529);
    expect(await rejected.json()).toMatchObject({ error: { type: 'overloaded_error' } });
    busy.abort();
  });

  it('llama.cpp: 503 "Loading model" on every path while loading, then ok', async () => {
    const s = await sim({ flavour: 'llamacpp', loadingMs: 1000 });
    const loading = { error: { code: 503, message: 'Loading model', type: 'unavailable_error' } };
    const health = await fetch(`${s.url}/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toEqual(loading);
    const r = await postJson(`${s.url}/v1/chat/completions`, chat('x'));
    expect(r.status).toBe(503);
    expect(await r.json()).toEqual(loading);
    await waitFor(async () => (await fetch(`${s.url}/health`)).status === 200, 5000);
    expect(await (await fetch(`${s.url}/health`)).json()).toEqual({ status: 'ok' });
  });

  it('vLLM: setLoading makes /health 503 while /metrics keeps answering', async () => {
    const s = await sim({ flavour: 'vllm' });
    expect((await fetch(`${s.url}/health`)).status).toBe(200);
    s.setLoading(true);
    expect((await fetch(`${s.url}/health`)).status).toBe(503);
    expect((await fetch(`${s.url}/metrics`)).status).toBe(200);
    expect((await postJson(`${s.url}/v1/chat/completions`, chat('x'))).status).toBe(503);
    s.setLoading(false);
    expect((await fetch(`${s.url}/health`)).status).toBe(200);
  });

  it('detects a client that aborts mid-stream or while queued, and frees the slot', async () => {
    const s = await sim({ flavour: 'vllm', maxConcurrency: 1, itlMs: 20, outputTokens: 100 });
    const ac = new AbortController();
    const r = await postJson(`${s.url}/v1/chat/completions`, chat('x', { stream: true }), {}, ac.signal);
    const queued = new AbortController();
    postJson(`${s.url}/v1/chat/completions`, chat('y'), {}, queued.signal).catch(() => {});
    await waitFor(() => s.stats().waiting === 1);
    queued.abort();
    await waitFor(() => s.stats().waiting === 0 && s.stats().abortedByClient === 1);
    const reader = r.body!.getReader();
    await reader.read();
    ac.abort();
    await waitFor(() => s.stats().abortedByClient === 2 && s.stats().running === 0);
    expect(s.stats().tokensOut).toBeLessThan(100);
    expect(
      metricValue(
        await metrics(s),
        'vllm:request_success_total{engine="0",model_name="sim-model",finished_reason="abort"}',
      ),
    ).toBe(1);
  });

  it('kill() drops every connection at once; restart() serves again on the same port', async () => {
    const s = await sim({ flavour: 'vllm', itlMs: 10, outputTokens: 200 });
    const r = await postJson(`${s.url}/v1/chat/completions`, chat('x', { stream: true }));
    const reading = readUntilError(r);
    await waitFor(() => s.stats().tokensOut > 0 || s.stats().running === 1);
    await s.kill();
    const { error } = await reading;
    expect(error).toBeTruthy();
    expect(s.stats().abortedByClient).toBe(0);
    await expect(fetch(`${s.url}/health`)).rejects.toThrow();
    await s.restart();
    expect((await fetch(`${s.url}/health`)).status).toBe(200);
    expect((await postJson(`${s.url}/v1/chat/completions`, chat('x'))).status).toBe(200);
  });

  it('close() lets in-flight requests finish', async () => {
    const s = await sim({ flavour: 'vllm', ttftMs: 300 });
    const pending = postJson(`${s.url}/v1/chat/completions`, chat('x'));
    await waitFor(() => s.stats().running === 1);
    await s.close();
    expect((await pending).status).toBe(200);
  });

  it('llama.cpp: /slots shows busy slots and /metrics can block while decoding', async () => {
    const s = await sim({
      flavour: 'llamacpp',
      maxConcurrency: 2,
      itlMs: 20,
      outputTokens: 25,
      metricsBlockDuringDecode: true,
    });
    const pending = postJson(`${s.url}/v1/chat/completions`, chat('x'));
    await waitFor(() => s.stats().running === 1);
    const slots = (await (await fetch(`${s.url}/slots`)).json()) as {
      id: number;
      is_processing: boolean;
      n_ctx: number;
    }[];
    expect(slots.map((x) => x.is_processing)).toEqual([true, false]);
    expect(slots[0]?.n_ctx).toBe(32768); // maxModelLen: each slot's context
    const t0 = performance.now();
    const text = await (await fetch(`${s.url}/metrics`)).text();
    expect(performance.now() - t0).toBeGreaterThan(50);
    expect((await pending).status).toBe(200);
    for (const name of [
      'requests_processing',
      'requests_deferred',
      'prompt_tokens_total',
      'tokens_predicted_total',
      'prompt_tokens_cached_total',
    ]) {
      expect(text).toContain(`# TYPE llamacpp:${name} `);
    }
    expect(metricValue(text, 'llamacpp:tokens_predicted_total')).toBe(25);
  });

  it('vLLM: limits distinct LoRA adapters in the batch and reports them in lora_requests_info', async () => {
    const s = await sim({ flavour: 'vllm', loras: ['sql-lora', 'chat-lora'], maxLoras: 1, itlMs: 5 });
    const a = new AbortController();
    const long = { ...chat('x'), model: 'sql-lora' };
    postJson(`${s.url}/v1/chat/completions`, long, { 'x-sim-output-tokens': '2000' }, a.signal).catch(() => {});
    await waitFor(() => s.stats().running === 1);
    const b = postJson(`${s.url}/v1/chat/completions`, { ...chat('x'), model: 'chat-lora' });
    await waitFor(() => s.stats().waiting === 1);
    const text = await metrics(s);
    expect(text).toContain(
      'vllm:lora_requests_info{max_lora="1",running_lora_adapters="sql-lora",waiting_lora_adapters="chat-lora"}',
    );
    a.abort();
    expect((await b).status).toBe(200);
    const models = (await (await fetch(`${s.url}/v1/models`)).json()) as {
      data: { id: string; parent: string | null }[];
    };
    expect(models.data.map((m) => [m.id, m.parent])).toEqual([
      ['sim-model', null],
      ['sql-lora', 'sim-model'],
      ['chat-lora', 'sim-model'],
    ]);
  });

  it('exposes the vLLM metric names schedulers read', async () => {
    const s = await sim({ flavour: 'vllm' });
    await postJson(`${s.url}/v1/chat/completions`, chat('x'));
    const text = await metrics(s);
    for (const name of [
      'num_requests_running',
      'num_requests_waiting',
      'kv_cache_usage_perc',
      'prefix_cache_queries_total',
      'prefix_cache_hits_total',
      'cache_config_info',
      'lora_requests_info',
      'prompt_tokens_total',
      'generation_tokens_total',
      'time_to_first_token_seconds',
      'e2e_request_latency_seconds',
    ]) {
      expect(text).toContain(`# TYPE vllm:${name} `);
    }
    expect(text).toMatch(/^vllm:cache_config_info\{block_size="16",.*num_gpu_blocks="2048".*\} 1\.0$/m);
    expect(text).toContain('vllm:time_to_first_token_seconds_bucket{engine="0",model_name="sim-model",le="+Inf"} 1.0');
    expect(gauge(text, 'generation_tokens_total')).toBe(16);
  });
});
