import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from './index.js';

describe('simulator: Ollama protocol through the ollama client', () => {
  let sim: Simulator;
  let ollama: Ollama;
  beforeAll(async () => {
    sim = await startSimulator({ flavour: 'ollama', models: ['llama3.2', 'nomic-embed-text'], loadingMs: 30 });
    ollama = new Ollama({ host: sim.url });
  });
  afterAll(() => sim.close());

  it('streams chat as NDJSON parts ending with done:true, durations in ns and a cold-load time once', async () => {
    const parts = [];
    for await (const p of await ollama.chat({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'Why is the sky blue?' }],
      stream: true,
    })) {
      parts.push(p);
    }
    const last = parts.at(-1)!;
    expect(parts).toHaveLength(17);
    expect(parts.slice(0, -1).every((p) => !p.done && p.message.role === 'assistant')).toBe(true);
    expect(last.done).toBe(true);
    expect(last.done_reason).toBe('stop');
    expect(last.eval_count).toBe(16);
    expect(last.prompt_eval_count).toBe(8);
    expect(last.load_duration).toBeGreaterThanOrEqual(30e6);
    expect(last.total_duration).toBeGreaterThanOrEqual(last.load_duration);
    const again = await ollama.chat({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'Why is the sky blue?' }],
    });
    expect(again.load_duration).toBe(0);
    expect(again.message.content).toBe(parts.map((p) => p.message.content).join(''));
  });

  it('answers tool calls with object arguments', async () => {
    const r = await ollama.chat({
      model: 'llama3.2:latest',
      messages: [{ role: 'user', content: 'Weather in Lima?' }],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Weather',
            parameters: { type: 'object', required: ['city'], properties: { city: { type: 'string' } } },
          },
        },
      ],
    });
    expect(r.message.tool_calls).toHaveLength(1);
    expect(r.message.tool_calls?.[0]?.function.name).toBe('get_weather');
    expect(typeof r.message.tool_calls?.[0]?.function.arguments.city).toBe('string');
  });

  it('generates, honouring num_predict (done_reason length) and returning context', async () => {
    const r = await ollama.generate({ model: 'llama3.2', prompt: 'Once upon a time', options: { num_predict: 3 } });
    expect(r.response?.split(' ')).toHaveLength(3);
    expect(r.done_reason).toBe('length');
    expect(r.eval_count).toBe(3);
    expect(Array.isArray(r.context)).toBe(true);
  });

  it('embeds, lists tags and reports the version', async () => {
    const e = await ollama.embed({ model: 'nomic-embed-text', input: ['a', 'b'] });
    expect(e.embeddings).toHaveLength(2);
    expect(e.embeddings[0]).toHaveLength(8);
    expect(e.prompt_eval_count).toBe(2);
    const list = await ollama.list();
    expect(list.models.map((m) => m.name)).toEqual(['llama3.2:latest', 'nomic-embed-text:latest']);
    expect((await ollama.version()).version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(await (await fetch(sim.url)).text()).toBe('Ollama is running');
  });

  it('answers errors as {"error": …} and the ollama client throws them', async () => {
    await expect(ollama.chat({ model: 'missing', messages: [{ role: 'user', content: 'x' }] })).rejects.toThrow(
      'model "missing" not found, try pulling it first',
    );
    const r = await fetch(`${sim.url}/api/chat`, { method: 'POST', body: JSON.stringify({ messages: [] }) });
    expect(r.status).toBe(400);
    expect(await r.json()).toEqual({ error: 'model is required' });
  });

  it('frames the stream as NDJSON: one JSON object per line', async () => {
    const r = await fetch(`${sim.url}/api/generate`, {
      method: 'POST',
      body: JSON.stringify({ model: 'llama3.2', prompt: 'hi', options: { num_predict: 2 } }),
    });
    expect(r.headers.get('content-type')).toBe('application/x-ndjson');
    const text = await r.text();
    expect(text.endsWith('}\n')).toBe(true);
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines.map((l) => JSON.parse(l).done)).toEqual([false, false, true]);
  });

  it("serves Ollama's OpenAI-compatible /v1 endpoints", async () => {
    const client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'ollama', maxRetries: 0 });
    const r = await client.chat.completions.create({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] });
    expect(r.choices[0]?.message.content?.length).toBeGreaterThan(0);
    const models = await client.models.list();
    expect(models.data[0]).toMatchObject({ id: 'llama3.2:latest', owned_by: 'library' });
    const err = await client.chat.completions
      .create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(404);
  });
});
