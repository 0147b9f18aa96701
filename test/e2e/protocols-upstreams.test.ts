/**
 * Translation towards non-OpenAI upstreams: the `openai` SDK served by an Anthropic-flavour simulator (text, tools,
 * streaming with incremental arguments, usage, 529 and mid-stream errors), plus the native pass-throughs
 * (Anthropic SDK → Anthropic upstream, ollama client → Ollama upstream) and an OpenAI client of an Ollama upstream.
 */
import Anthropic from '@anthropic-ai/sdk';
import { type ChatResponse, Ollama } from 'ollama';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../sim/index.js';
import { poolManifests, startTestProxy, type TestProxy } from '../support/proxy.js';

let claude: Simulator;
let ollamaSim: Simulator;
let proxy: TestProxy;
let openai: OpenAI;

/** Streams an Ollama chat of `model` with `content` as the user message: the text and the last (done) chunk. */
async function streamOllamaChat(client: Ollama, model: string, content: string) {
  let text = '';
  let last: ChatResponse | undefined;
  for await (const p of await client.chat({ model, stream: true, messages: [{ role: 'user', content }] })) {
    text += p.message.content;
    last = p;
  }
  return { text, last };
}

const tools: OpenAI.ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
  {
    type: 'function',
    function: {
      name: 'get_time',
      parameters: { type: 'object', properties: { zone: { type: 'string' } }, required: ['zone'] },
    },
  },
];

beforeAll(async () => {
  claude = await startSimulator({ flavour: 'anthropic', models: ['claude-sonnet'], apiKey: 'sk-ant-upstream' });
  ollamaSim = await startSimulator({ flavour: 'ollama', models: ['qwen'] });
  const manifests = [
    poolManifests({
      name: 'claude',
      model: 'gpt-claude',
      upstreamName: 'claude-sonnet',
      provider: 'anthropic',
      urls: [claude.url],
      poolSpec: '  retry: { attempts: 1 }',
      backendSpec: '  credentialsRef: { name: claude-key, key: apiKey }',
    }),
    'apiVersion: v1\nkind: Secret\nmetadata: { name: claude-key }\nstringData: { apiKey: sk-ant-upstream }\n',
    poolManifests({
      name: 'local',
      model: 'qwen-local',
      upstreamName: 'qwen',
      provider: 'ollama',
      urls: [ollamaSim.url],
    }),
  ].join('\n---\n');
  proxy = await startTestProxy(manifests);
  openai = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'client-key', maxRetries: 0 });
});

afterAll(async () => {
  await proxy?.stop();
  await claude?.close();
  await ollamaSim?.close();
});

describe('openai SDK → proxy → Anthropic upstream', () => {
  it('translates a chat completion with system prompt, stop and usage', async () => {
    claude.resetStats();
    const r = await openai.chat.completions.create({
      model: 'gpt-claude',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi [sim output=Hello there]' },
      ],
      stop: ['END'],
    });
    expect(r.model).toBe('gpt-claude');
    expect(r.choices[0]?.message.content).toBe('Hello there');
    expect(r.choices[0]?.finish_reason).toBe('stop');
    expect(r.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(r.usage?.total_tokens).toBe((r.usage?.prompt_tokens ?? 0) + (r.usage?.completion_tokens ?? 0));
    const req = claude.requests().at(-1);
    expect(req?.path).toBe('/v1/messages');
    expect(req?.headers['x-api-key']).toBe('sk-ant-upstream');
    expect(req?.headers['anthropic-version']).toBe('2023-06-01');
    expect(req?.body).toMatchObject({
      model: 'claude-sonnet',
      system: 'Be brief.',
      max_tokens: 4096,
      stop_sequences: ['END'],
    });
  });

  it('returns tool calls with JSON-string arguments and finish_reason tool_calls', async () => {
    const r = await openai.chat.completions.create({
      model: 'gpt-claude',
      tools,
      tool_choice: 'required',
      messages: [{ role: 'user', content: 'Both [sim tool-calls=2]' }],
    });
    const calls = r.choices[0]?.message.tool_calls ?? [];
    expect(r.choices[0]?.finish_reason).toBe('tool_calls');
    expect(calls.map((c) => (c.type === 'function' ? c.function.name : ''))).toEqual(['get_weather', 'get_time']);
    for (const c of calls) {
      expect(c.id).toMatch(/^toolu_/);
      if (c.type === 'function') expect(typeof JSON.parse(c.function.arguments)).toBe('object');
    }
    expect(claude.requests().at(-1)?.body).toMatchObject({ tool_choice: { type: 'any' } });
  });

  it('streams tool calls with incremental arguments and the usage chunk when asked', async () => {
    const stream = await openai.chat.completions.create({
      model: 'gpt-claude',
      stream: true,
      stream_options: { include_usage: true },
      tools,
      tool_choice: 'required',
      messages: [{ role: 'user', content: 'Both [sim tool-calls=2]' }],
    });
    const args = new Map<number, string>();
    const names = new Map<number, string>();
    let fragments = 0;
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices[0];
      if (!choice) continue;
      finish = choice.finish_reason ?? finish;
      for (const tc of choice.delta.tool_calls ?? []) {
        if (tc.function?.name) names.set(tc.index, tc.function.name);
        if (tc.function?.arguments) {
          fragments++;
          args.set(tc.index, (args.get(tc.index) ?? '') + tc.function.arguments);
        }
      }
    }
    expect([...names.values()]).toEqual(['get_weather', 'get_time']);
    expect(fragments).toBeGreaterThan(2);
    expect(typeof JSON.parse(args.get(0) ?? '').city).toBe('string');
    expect(typeof JSON.parse(args.get(1) ?? '').zone).toBe('string');
    expect(finish).toBe('tool_calls');
    expect(usage?.prompt_tokens).toBeGreaterThan(0);
    expect(usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('streams text without a usage chunk unless asked', async () => {
    const stream = await openai.chat.completions.create({
      model: 'gpt-claude',
      stream: true,
      messages: [{ role: 'user', content: 'Hi [sim output=a b c]' }],
    });
    let text = '';
    let usageChunks = 0;
    for await (const chunk of stream) {
      if (chunk.usage) usageChunks++;
      text += chunk.choices[0]?.delta.content ?? '';
    }
    expect(text).toBe('a b c');
    expect(usageChunks).toBe(0);
  });

  it('reports an overloaded upstream (529) to OpenAI clients as 503', async () => {
    const err = await openai.chat.completions
      .create({ model: 'gpt-claude', messages: [{ role: 'user', content: 'x [sim status=529]' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
  });

  /** A streamed OpenAI chat request to the Anthropic-backed model, with `content` as the prompt. */
  const streamFromClaude = (content: string) =>
    fetch(`${proxy.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-claude', stream: true, messages: [{ role: 'user', content }] }),
    });

  it('reports an overloaded error event before the first token to OpenAI clients as 503, not 529', async () => {
    const r = await streamFromClaude('x [sim mid-stream-error=0]');
    expect(r.status).toBe(503);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('overloaded_error');
  });

  it('ends a stream with an OpenAI error event when Anthropic sends event: error', async () => {
    const r = await streamFromClaude('x [sim output-tokens=8; mid-stream-error=2]');
    const text = await r.text();
    expect(text).toContain('"content"');
    expect(text.trimEnd().split('\n\n').at(-1)).toMatch(/^data: \{"error":\{"message":"Overloaded"/);
    expect(text).not.toContain('[DONE]');
  });

  it('refuses what Anthropic cannot express with a 400 naming the field', async () => {
    const err = await openai.chat.completions
      .create({ model: 'gpt-claude', n: 2, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(400);
    expect((err as InstanceType<typeof OpenAI.APIError>).message).toContain('n:');
  });
});

describe('native pass-through', () => {
  it('Anthropic SDK → Anthropic upstream keeps the body, streams natively and reports the public model', async () => {
    const client = new Anthropic({ baseURL: proxy.url, apiKey: 'client-key', maxRetries: 0 });
    const stream = client.messages.stream({
      model: 'gpt-claude',
      max_tokens: 100,
      tools: [{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
      tool_choice: { type: 'tool', name: 'get_weather' },
      messages: [{ role: 'user', content: 'weather [sim tool-calls=1]' }],
    });
    const final = await stream.finalMessage();
    expect(final.model).toBe('gpt-claude');
    expect(final.stop_reason).toBe('tool_use');
    expect(final.content[0]).toMatchObject({ type: 'tool_use', name: 'get_weather' });
    expect(final.usage.input_tokens).toBeGreaterThan(0);
    const count = await client.messages.countTokens({
      model: 'gpt-claude',
      messages: [{ role: 'user', content: 'hello' }],
    });
    expect(count.input_tokens).toBeGreaterThan(0);
    const overloaded = await client.messages
      .create({ model: 'gpt-claude', max_tokens: 5, messages: [{ role: 'user', content: 'x [sim status=529]' }] })
      .catch((e: unknown) => e);
    expect((overloaded as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
    expect(
      ((overloaded as InstanceType<typeof Anthropic.APIError>).error as { error: { type: string } }).error.type,
    ).toBe('overloaded_error');
  });

  it('Anthropic SDK → Anthropic upstream: a mid-stream error event reaches the SDK as an overloaded error', async () => {
    const client = new Anthropic({ baseURL: proxy.url, apiKey: 'client-key', maxRetries: 0 });
    const stream = client.messages.stream({
      model: 'gpt-claude',
      max_tokens: 50,
      messages: [{ role: 'user', content: 'x [sim output-tokens=8; mid-stream-error=2]' }],
    });
    let text = '';
    stream.on('text', (t) => {
      text += t;
    });
    const err = await stream.finalMessage().catch((e: unknown) => e);
    expect(text.length).toBeGreaterThan(0);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(String((err as Error).message)).toContain('overloaded_error');
  });

  it('reports a cut answer as length to OpenAI clients and max_tokens to Anthropic clients, with exact usage', async () => {
    const cut = await openai.chat.completions.create({
      model: 'gpt-claude',
      max_tokens: 3,
      messages: [{ role: 'user', content: 'x [sim output-tokens=20]' }],
    });
    expect(cut.choices[0]?.finish_reason).toBe('length');
    expect(cut.usage?.completion_tokens).toBe(3);
    const client = new Anthropic({ baseURL: proxy.url, apiKey: 'client-key', maxRetries: 0 });
    const viaOllama = await client.messages.create({
      model: 'qwen-local',
      max_tokens: 3,
      messages: [{ role: 'user', content: 'x [sim output-tokens=20]' }],
    });
    expect(viaOllama.stop_reason).toBe('max_tokens');
    expect(viaOllama.usage.output_tokens).toBe(3);
  });

  it('ollama client → Ollama upstream streams natively with the public model name', async () => {
    const client = new Ollama({ host: proxy.url });
    const { text, last } = await streamOllamaChat(client, 'qwen-local', 'hi [sim output=x y z]');
    expect(text).toBe('x y z');
    expect(last).toMatchObject({ done: true, model: 'qwen-local' });
    expect(last?.eval_count).toBeGreaterThan(0);
  });

  it('openai SDK → Ollama upstream translates chat and embeddings', async () => {
    const r = await openai.chat.completions.create({
      model: 'qwen-local',
      tools,
      messages: [{ role: 'user', content: 'Weather [sim tool-calls=1]' }],
    });
    expect(r.choices[0]?.finish_reason).toBe('tool_calls');
    const call = r.choices[0]?.message.tool_calls?.[0];
    expect(call?.type === 'function' && typeof JSON.parse(call.function.arguments).city).toBe('string');
    const e = await openai.embeddings.create({ model: 'qwen-local', input: ['a', 'b'] });
    expect(e.data).toHaveLength(2);
    expect(e.data[0]?.embedding.length).toBeGreaterThan(0);
  });
});

describe('cross pairs', () => {
  it('Anthropic SDK → Ollama upstream: text, a streamed tool call and usage', async () => {
    const client = new Anthropic({ baseURL: proxy.url, apiKey: 'client-key', maxRetries: 0 });
    const msg = await client.messages.create({
      model: 'qwen-local',
      max_tokens: 50,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Hi [sim output=Hello from Ollama]' }],
    });
    expect(msg.model).toBe('qwen-local');
    expect(msg.content).toHaveLength(1);
    expect(msg.content[0]).toMatchObject({ type: 'text', text: 'Hello from Ollama' });
    expect(msg.stop_reason).toBe('end_turn');
    expect(msg.usage.input_tokens).toBeGreaterThan(0);
    expect(msg.usage.output_tokens).toBeGreaterThan(0);
    const sent = ollamaSim.requests().at(-1);
    expect(sent?.path).toBe('/api/chat');
    expect((sent?.body as { messages?: unknown[] } | undefined)?.messages?.[0]).toEqual({
      role: 'system',
      content: 'Be brief.',
    });

    const stream = client.messages.stream({
      model: 'qwen-local',
      max_tokens: 200,
      tools: [{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
      messages: [{ role: 'user', content: 'Weather? [sim tool-calls=1]' }],
    });
    const final = await stream.finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    const use = final.content.find((b) => b.type === 'tool_use');
    expect(use?.type === 'tool_use' && use.name).toBe('get_weather');
    expect(use?.type === 'tool_use' && typeof (use.input as { city?: unknown }).city).toBe('string');
    expect(final.usage.output_tokens).toBeGreaterThan(0);
  });

  it('ollama client → Anthropic upstream: chat streamed and not, with counts', async () => {
    const client = new Ollama({ host: proxy.url });
    const r = await client.chat({
      model: 'gpt-claude',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi [sim output=Hello from Claude]' },
      ],
      options: { num_predict: 30 },
    });
    expect(r).toMatchObject({ model: 'gpt-claude', done: true, done_reason: 'stop' });
    expect(r.message.content).toBe('Hello from Claude');
    expect(r.prompt_eval_count).toBeGreaterThan(0);
    const sent = claude.requests().at(-1);
    expect(sent?.path).toBe('/v1/messages');
    expect(sent?.body).toMatchObject({ model: 'claude-sonnet', system: 'Be brief.', max_tokens: 30 });

    const { text, last } = await streamOllamaChat(client, 'gpt-claude', 'Hi [sim output=a b c]');
    expect(text).toBe('a b c');
    expect(last?.done).toBe(true);
    expect(last?.eval_count).toBeGreaterThan(0);
  });

  it('tool_choice none and auto reach an Anthropic upstream as its own tool_choice', async () => {
    for (const choice of ['none', 'auto'] as const) {
      await openai.chat.completions.create({
        model: 'gpt-claude',
        tools,
        tool_choice: choice,
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect((claude.requests().at(-1)?.body as { tool_choice?: unknown } | undefined)?.tool_choice).toEqual({
        type: choice,
      });
    }
  });

  it.each(['gpt-claude', 'qwen-local'])(
    'serves legacy completions from %s as text_completion, streamed and not',
    async (model) => {
      const r = await openai.completions.create({
        model,
        prompt: 'Once upon a time [sim output=there was a gateway]',
        max_tokens: 20,
      });
      expect(r.object).toBe('text_completion');
      expect(r.model).toBe(model);
      expect(r.id).toMatch(/^cmpl-/);
      expect(r.choices[0]).toMatchObject({ index: 0, text: 'there was a gateway', finish_reason: 'stop' });
      expect(r.usage?.completion_tokens).toBeGreaterThan(0);
      const sim = model === 'gpt-claude' ? claude : ollamaSim;
      const sent = sim.requests().at(-1)?.body as { messages?: unknown[] } | undefined;
      expect(sent?.messages).toEqual([{ role: 'user', content: 'Once upon a time [sim output=there was a gateway]' }]);

      let text = '';
      let usage: OpenAI.CompletionUsage | null | undefined;
      let finish: string | null | undefined;
      const stream = await openai.completions.create({
        model,
        prompt: 'Go on [sim output=a b c d]',
        max_tokens: 20,
        stream: true,
        stream_options: { include_usage: true },
      });
      for await (const chunk of stream) {
        expect(chunk.object).toBe('text_completion');
        text += chunk.choices[0]?.text ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
        if (chunk.usage) usage = chunk.usage;
      }
      expect(text).toBe('a b c d');
      expect(finish).toBe('stop');
      expect(usage?.completion_tokens).toBeGreaterThan(0);
    },
  );

  it('refuses what legacy completions cannot express through chat with a 400 naming the field', async () => {
    for (const [extra, param] of [
      [{ echo: true }, 'echo'],
      [{ prompt: ['one', 'two'] }, 'prompt'],
      [{ prompt: [1, 2, 3] }, 'prompt'],
      [{ suffix: 'end' }, 'suffix'],
      [{ logprobs: 2 }, 'logprobs'],
    ] as const) {
      const e = await openai.completions
        .create({
          model: 'gpt-claude',
          prompt: 'x',
          max_tokens: 5,
          ...extra,
        } as OpenAI.CompletionCreateParamsNonStreaming)
        .catch((err: unknown) => err);
      expect(e, param).toBeInstanceOf(OpenAI.BadRequestError);
      expect((e as InstanceType<typeof OpenAI.BadRequestError>).param, param).toBe(param);
    }
  });

  it('an operation the upstream protocol has no equivalent for is a 400 in the client surface shape', async () => {
    const e = await openai.embeddings.create({ model: 'gpt-claude', input: 'x' }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    expect((e as InstanceType<typeof OpenAI.BadRequestError>).message).toContain(
      "served by a backend of provider 'anthropic', which does not support this operation",
    );
    const r = await fetch(`${proxy.url}/api/embed`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-claude', input: 'x' }),
    });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toContain('does not support this operation');
  });
});
