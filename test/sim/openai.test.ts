import OpenAI, { NotFoundError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from './index.js';

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather of a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] }, days: { type: 'integer' } },
      required: ['city', 'unit'],
    },
  },
};

describe('simulator: OpenAI protocol (vllm flavour) through the official openai SDK', () => {
  let sim: Simulator;
  let client: OpenAI;
  beforeAll(async () => {
    sim = await startSimulator({ flavour: 'vllm', models: ['sim-model', 'other-model'] });
    client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(() => sim.close());

  it('answers a chat completion with usage and deterministic text', async () => {
    const ask = () =>
      client.chat.completions.create({ model: 'sim-model', messages: [{ role: 'user', content: 'Say hello' }] });
    const a = await ask();
    const b = await ask();
    expect(a.object).toBe('chat.completion');
    expect(a.id).toMatch(/^chatcmpl-/);
    expect(a.choices[0]?.message.role).toBe('assistant');
    expect(a.choices[0]?.finish_reason).toBe('stop');
    expect(a.usage).toEqual({ prompt_tokens: 4, completion_tokens: 16, total_tokens: 20 });
    expect(a.choices[0]?.message.content).toBe(b.choices[0]?.message.content);
    expect(a.choices[0]?.message.content?.split(' ')).toHaveLength(16);
  });

  it('honours max_tokens (finish_reason length), stop, n and the x-sim-output header', async () => {
    const r = await client.chat.completions.create({
      model: 'sim-model',
      messages: [{ role: 'user', content: 'long answer please' }],
      max_tokens: 3,
      n: 2,
    });
    expect(r.choices).toHaveLength(2);
    expect(r.choices.map((c) => c.finish_reason)).toEqual(['length', 'length']);
    expect(r.usage?.completion_tokens).toBe(6);
    const forced = await client.chat.completions.create(
      { model: 'sim-model', messages: [{ role: 'user', content: 'x' }], stop: [' world'] },
      { headers: { 'x-sim-output': 'Hello, big world!' } },
    );
    expect(forced.choices[0]?.message.content).toBe('Hello, big');
    expect(forced.choices[0]?.finish_reason).toBe('stop');
  });

  it('streams chunks with a role chunk, a finish chunk and a usage chunk when include_usage is set', async () => {
    const stream = await client.chat.completions.create({
      model: 'sim-model',
      messages: [{ role: 'user', content: 'stream please' }],
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 4,
    });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text.split(' ')).toHaveLength(4);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('length');
    expect(chunks.at(-1)?.choices).toEqual([]);
    expect(chunks.at(-1)?.usage).toEqual({ prompt_tokens: 4, completion_tokens: 4, total_tokens: 8 });
  });

  it('frames the SSE stream byte for byte (data: prefix, blank-line separators, [DONE])', async () => {
    const r = await fetch(`${sim.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-sim-output': 'Hi there' },
      body: JSON.stringify({
        model: 'sim-model',
        messages: [{ role: 'user', content: 'x' }],
        stream: true,
        stream_options: { include_usage: true },
      }),
    });
    expect(r.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const text = (await r.text())
      .replace(/"id":"chatcmpl-[0-9a-f]{32}"/g, '"id":"ID"')
      .replace(/"created":\d+/g, '"created":0');
    const head = 'data: {"id":"ID","object":"chat.completion.chunk","created":0,"model":"sim-model","choices":[';
    const choice = (delta: string, finish: string | null) =>
      `${head}{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finish}}]}\n\n`;
    expect(text).toBe(
      choice('{"role":"assistant","content":""}', 'null') +
        choice('{"content":"Hi"}', 'null') +
        choice('{"content":" there"}', 'null') +
        choice('{}', '"stop"') +
        `${head}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}\n\n` +
        'data: [DONE]\n\n',
    );
  });

  it('streams tool calls that the SDK accumulates into parsed arguments', async () => {
    const stream = client.chat.completions.stream(
      { model: 'sim-model', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [weatherTool] },
      { headers: { 'x-sim-tool-calls': '2' } },
    );
    const final = await stream.finalChatCompletion();
    const choice = final.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    const calls = choice.message.tool_calls ?? [];
    expect(calls).toHaveLength(2);
    for (const call of calls) {
      if (call.type !== 'function') throw new Error('expected a function call');
      expect(call.id).toMatch(/^chatcmpl-tool-/);
      expect(call.function.name).toBe('get_weather');
      const args = JSON.parse(call.function.arguments);
      expect(args.unit).toBe('c');
      expect(typeof args.city).toBe('string');
      expect(Number.isInteger(args.days)).toBe(true);
    }
  });

  it('runs a runTools loop to a text answer (tools only answer user turns)', async () => {
    const seen: string[] = [];
    const runner = client.chat.completions.runTools({
      model: 'sim-model',
      messages: [{ role: 'user', content: 'What is the weather in Oslo?' }],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Weather of a city',
            parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
            parse: (text: string) => JSON.parse(text) as { city: string },
            function: (args: { city: string }) => {
              seen.push(args.city);
              return { temperature: 3 };
            },
          },
        },
      ],
    });
    const content = await runner.finalContent();
    expect(seen).toHaveLength(1);
    expect(content?.length).toBeGreaterThan(0);
    expect(sim.requests().at(-1)?.body).toMatchObject({
      messages: [{ role: 'user' }, { role: 'assistant' }, { role: 'tool' }],
    });
  });

  it('answers text completions', async () => {
    const r = await client.completions.create({ model: 'sim-model', prompt: 'Once upon a time', max_tokens: 5 });
    expect(r.object).toBe('text_completion');
    expect(r.choices[0]?.text.split(' ')).toHaveLength(5);
    expect(r.usage?.prompt_tokens).toBe(4);
  });

  it('serves embeddings as base64 (the SDK default) equal to the float encoding', async () => {
    const b64 = await client.embeddings.create({ model: 'sim-model', input: ['alpha', 'beta'] });
    const floats = await client.embeddings.create({
      model: 'sim-model',
      input: ['alpha', 'beta'],
      encoding_format: 'float',
    });
    expect(sim.requests().at(-2)?.body).toMatchObject({ encoding_format: 'base64' });
    expect(b64.data).toHaveLength(2);
    expect(b64.data[0]?.embedding).toHaveLength(8);
    expect(Array.from(b64.data[0]!.embedding)).toEqual(floats.data[0]?.embedding);
    expect(b64.data[0]?.embedding).not.toEqual(b64.data[1]?.embedding);
    const norm = Math.hypot(...floats.data[0]!.embedding);
    expect(norm).toBeCloseTo(1, 5);
  });

  it('sizes embeddings by dimensions and refuses sizes no model has (a 2^31 vector would stall the server)', async () => {
    const small = await client.embeddings.create({
      model: 'sim-model',
      input: 'x',
      dimensions: 3,
      encoding_format: 'float',
    });
    expect(small.data[0]?.embedding).toHaveLength(3);
    for (const dimensions of [2 ** 31, 4097, 0, 1.5]) {
      const err = await client.embeddings
        .create({ model: 'sim-model', input: 'x', dimensions })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 400, param: 'dimensions' });
    }
  });

  it('lists models and rejects unknown ones with 404 NotFoundError', async () => {
    const page = await client.models.list();
    expect(page.data.map((m) => m.id)).toEqual(['sim-model', 'other-model']);
    expect(page.data[0]?.owned_by).toBe('vllm');
    const err = await client.chat.completions
      .create({ model: 'missing', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as NotFoundError).error).toEqual({
      message: 'The model `missing` does not exist.',
      type: 'NotFoundError',
      param: 'model',
      code: 404,
    });
  });

  it('rejects invalid requests with 400 in the vLLM error shape', async () => {
    const r = await fetch(`${sim.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'sim-model', messages: [] }),
    });
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ error: { type: 'BadRequestError', param: 'messages', code: 400 } });
    const opts = await fetch(`${sim.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'sim-model', messages: [{ role: 'user', content: 'x' }], stream_options: {} }),
    });
    expect(opts.status).toBe(400);
    const notJson = await fetch(`${sim.url}/v1/chat/completions`, { method: 'POST', body: '{oops' });
    expect(notJson.status).toBe(400);
  });
});

describe('simulator: openai flavour specifics', () => {
  it('requires the bearer key and answers 401 in the OpenAI shape', async () => {
    const sim = await startSimulator({ flavour: 'openai', apiKey: 'sk-right' });
    try {
      const bad = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'sk-wrong', maxRetries: 0 });
      const err = await bad.models.list().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
      expect((err as InstanceType<typeof OpenAI.APIError>).code).toBe('invalid_api_key');
      const good = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'sk-right', maxRetries: 0 });
      const stream = await good.chat.completions.create({
        model: 'sim-model',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      const chunks = [];
      for await (const c of stream) chunks.push(c);
      expect(chunks[0]?.system_fingerprint).toBeTruthy();
      expect(chunks.at(-1)?.usage?.total_tokens).toBe(3 + 16);
    } finally {
      await sim.close();
    }
  });
});
