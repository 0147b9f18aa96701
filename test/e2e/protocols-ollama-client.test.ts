/**
 * The official `ollama` npm client against the proxy, served by a vLLM-flavour simulator pool (OpenAI protocol):
 * chat and generate, streamed (NDJSON, the default) and not, tools, embeddings, tags/version/root, error shape,
 * and a mid-stream upstream failure ending with a final `{"error":…}` line.
 */
import { Ollama, type Tool } from 'ollama';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../sim/index.js';
import { poolManifests, startTestProxy, type TestProxy } from '../support/proxy.js';

let sim: Simulator;
let proxy: TestProxy;
let ollama: Ollama;

const tools: Tool[] = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Weather for a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
  {
    type: 'function',
    function: {
      name: 'get_time',
      description: 'Time in a zone',
      parameters: { type: 'object', properties: { zone: { type: 'string' } }, required: ['zone'] },
    },
  },
];

beforeAll(async () => {
  sim = await startSimulator({ flavour: 'vllm', models: ['llama'] });
  proxy = await startTestProxy(poolManifests({ model: 'llama3', upstreamName: 'llama', urls: [sim.url] }));
  ollama = new Ollama({ host: proxy.url });
});

afterAll(async () => {
  await proxy?.stop();
  await sim?.close();
});

describe('ollama client → proxy → vLLM', () => {
  it('answers a non-streamed chat with content, done_reason and counts', async () => {
    sim.resetStats();
    const r = await ollama.chat({
      model: 'llama3',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi [sim output=Hello there]' },
      ],
      options: { temperature: 0.2, num_predict: 40, num_ctx: 4096 },
    });
    expect(r.model).toBe('llama3');
    expect(r.message).toMatchObject({ role: 'assistant', content: 'Hello there' });
    expect(r.done).toBe(true);
    expect(r.done_reason).toBe('stop');
    expect(r.prompt_eval_count).toBeGreaterThan(0);
    expect(r.eval_count).toBeGreaterThan(0);
    const sent = sim.requests().at(-1)?.body as Record<string, unknown>;
    expect(sent).toMatchObject({ model: 'llama', temperature: 0.2, max_tokens: 40 });
    expect((sent.messages as unknown[])[0]).toEqual({ role: 'system', content: 'Be brief.' });
  });

  it('streams chat as NDJSON by default and ends with done', async () => {
    const parts: string[] = [];
    let last: { done: boolean; done_reason?: string; eval_count?: number; prompt_eval_count?: number } | undefined;
    for await (const p of await ollama.chat({
      model: 'llama3',
      stream: true,
      messages: [{ role: 'user', content: 'Hi [sim output=one two three]' }],
    })) {
      parts.push(p.message.content);
      last = p;
    }
    expect(parts.join('')).toBe('one two three');
    expect(last?.done).toBe(true);
    expect(last?.done_reason).toBe('stop');
    expect(last?.eval_count).toBeGreaterThan(0);
    expect(last?.prompt_eval_count).toBeGreaterThan(0);
  });

  it('returns two tool calls with object arguments, streamed and not', async () => {
    const r = await ollama.chat({
      model: 'llama3',
      tools,
      messages: [{ role: 'user', content: 'Weather and time [sim tool-calls=2]' }],
    });
    expect(r.message.tool_calls?.map((c) => c.function.name)).toEqual(['get_weather', 'get_time']);
    expect(typeof r.message.tool_calls?.[0]?.function.arguments.city).toBe('string');
    const streamed: string[] = [];
    let zone: unknown;
    for await (const p of await ollama.chat({
      model: 'llama3',
      stream: true,
      tools,
      messages: [{ role: 'user', content: 'Weather and time [sim tool-calls=2]' }],
    })) {
      for (const c of p.message.tool_calls ?? []) {
        streamed.push(c.function.name);
        if (c.function.name === 'get_time') zone = c.function.arguments.zone;
      }
    }
    expect(streamed).toEqual(['get_weather', 'get_time']);
    expect(typeof zone).toBe('string');
  });

  it('sends tool results back with the ids of the calls they answer', async () => {
    sim.resetStats();
    await ollama.chat({
      model: 'llama3',
      tools,
      messages: [
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          content: '',
          tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Oslo' } } }],
        },
        { role: 'tool', content: 'sunny', tool_name: 'get_weather' } as { role: string; content: string },
      ],
    });
    const sent = sim.requests().at(-1)?.body as { messages: Array<Record<string, unknown>> };
    const calls = sent.messages[1]?.tool_calls as Array<{ id: string; function: { arguments: string } }> | undefined;
    const call = calls?.[0];
    expect(call?.function.arguments).toBe('{"city":"Oslo"}');
    expect(sent.messages[2]).toEqual({ role: 'tool', tool_call_id: call?.id, content: 'sunny' });
  });

  it('answers generate, streamed and not, with length stops', async () => {
    const r = await ollama.generate({
      model: 'llama3',
      prompt: 'Go [sim output-tokens=20]',
      options: { num_predict: 3 },
    });
    expect(r.response?.length).toBeGreaterThan(0);
    expect(r.done_reason).toBe('length');
    expect(r.eval_count).toBe(3);
    let text = '';
    for await (const p of await ollama.generate({ model: 'llama3', prompt: 'Go [sim output=a b c]', stream: true }))
      text += p.response;
    expect(text).toBe('a b c');
  });

  it('embeds (current and legacy endpoints)', async () => {
    const r = await ollama.embed({ model: 'llama3', input: ['one', 'two'] });
    expect(r.embeddings).toHaveLength(2);
    expect(r.embeddings[0]?.length).toBeGreaterThan(0);
    const legacy = await ollama.embeddings({ model: 'llama3', prompt: 'one' });
    expect(legacy.embedding).toEqual(r.embeddings[0]);
  });

  it('lists tags, reports a version and answers GET /', async () => {
    const list = await ollama.list();
    expect(list.models.map((m) => m.name)).toContain('llama3');
    const v = (await (await fetch(`${proxy.url}/api/version`)).json()) as { version: string };
    expect(v.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(await (await fetch(`${proxy.url}/`)).text()).toBe('Ollama is running');
  });

  it('answers errors in Ollama shape', async () => {
    const err = (await ollama
      .chat({ model: 'nope', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e)) as {
      status_code?: number;
      error?: string;
    };
    expect(err.status_code).toBe(404);
    expect(err.error).toContain('nope');
    const r = await fetch(`${proxy.url}/api/chat`, {
      method: 'POST',
      body: JSON.stringify({ model: 'llama3', messages: [{ role: 'user', content: 'x' }], options: { mirostat: 2 } }),
    });
    expect(r.status).toBe(400);
    expect(await r.json()).toEqual({ error: expect.stringContaining('options.mirostat') });
  });

  it('ends a stream that fails upstream with an error line and no done line', async () => {
    const r = await fetch(`${proxy.url}/api/chat`, {
      method: 'POST',
      body: JSON.stringify({
        model: 'llama3',
        messages: [{ role: 'user', content: 'hi [sim output-tokens=10; mid-stream-error=2]' }],
      }),
    });
    expect(r.headers.get('content-type')).toBe('application/x-ndjson');
    const lines = (await r.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.at(-1)).toEqual({ error: expect.any(String) });
    expect(lines.some((l) => l.done === true)).toBe(false);
  });
});
