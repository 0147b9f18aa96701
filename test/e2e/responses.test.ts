/**
 * `POST /v1/responses` end to end with the official `openai` SDK's `responses` client, on every upstream protocol:
 * passed through to vLLM and OpenAI (simulators serving the Responses API), translated to chat for llama.cpp,
 * Anthropic and Ollama. Answers and every streamed event are validated against OpenAI's published schemas
 * (`Response`, `ResponseStreamEvent`); instructions, `max_output_tokens`, function tools and their outputs, usage, and
 * the refusal of stateful fields are checked on each.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAPIValidator } from '../support/openapi.js';
import { startUpstreamSet, type UpstreamSet } from '../support/upstream-set.js';

const validate = openAPIValidator();

/** One upstream per protocol family: model name, simulator flavour, provider, how the proxy serves it. */
const UPSTREAMS = [
  { model: 'vllm', flavour: 'vllm', provider: 'vllm', upstream: 'org/M', native: true },
  { model: 'openai', flavour: 'openai', provider: 'openai', upstream: 'gpt-m', native: true },
  { model: 'llama', flavour: 'llamacpp', provider: 'llamacpp', upstream: 'm', native: false },
  { model: 'claude', flavour: 'anthropic', provider: 'anthropic', upstream: 'claude-m', native: false },
  { model: 'ollama', flavour: 'ollama', provider: 'ollama', upstream: 'qwen', native: false },
] as const;

let set: UpstreamSet;
let client: OpenAI;

const weather: OpenAI.Responses.FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Weather of a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  strict: false,
};

beforeAll(async () => {
  set = await startUpstreamSet(UPSTREAMS, { outputTokens: 6 });
  client = new OpenAI({ baseURL: `${set.proxy.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await set?.close();
});

const inference = (model: string) => set.inference(model);
const posts = (model: string) => inference(model).length;
const lastPath = (model: string) => inference(model).at(-1)?.path;

describe.each(UPSTREAMS)('responses → $model ($provider)', (u) => {
  it('creates a response with instructions, output text and usage', async () => {
    const r = await client.responses.create({
      model: u.model,
      instructions: 'Be brief.',
      input: 'Hello there',
      max_output_tokens: 50,
    });
    expect(validate('Response', r)).toEqual([]);
    expect(r.model).toBe(u.model);
    expect(r.status).toBe('completed');
    expect(r.output_text.split(' ')).toHaveLength(6);
    expect(r.usage?.output_tokens).toBe(6);
    expect(r.usage?.input_tokens).toBeGreaterThan(0);
    expect(lastPath(u.model)).toBe(
      u.native
        ? '/v1/responses'
        : u.flavour === 'anthropic'
          ? '/v1/messages'
          : u.flavour === 'ollama'
            ? '/api/chat'
            : '/v1/chat/completions',
    );
  });

  it('reports a response cut by max_output_tokens as incomplete', async () => {
    const r = await client.responses.create({ model: u.model, input: 'Talk', max_output_tokens: 3 });
    expect(validate('Response', r)).toEqual([]);
    expect(r.status).toBe('incomplete');
    expect(r.incomplete_details?.reason).toBe('max_output_tokens');
    expect(r.usage?.output_tokens).toBe(3);
  });

  it('streams the typed event sequence', async () => {
    const stream = await client.responses.create({ model: u.model, input: 'Stream please', stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const e of stream) events.push(e);
    for (const e of events) expect(validate('ResponseStreamEvent', e), e.type).toEqual([]);
    const types = events.map((e) => e.type);
    expect(types.slice(0, 4)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
    ]);
    expect(types.slice(-4)).toEqual([
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const text = events.flatMap((e) => (e.type === 'response.output_text.delta' ? [e.delta] : [])).join('');
    const done = events.at(-1);
    const final = done?.type === 'response.completed' ? done.response.output : [];
    expect(final.flatMap((o) => (o.type === 'message' ? o.content : []))).toEqual([
      { type: 'output_text', text, annotations: [], logprobs: [] },
    ]);
    expect(done?.type === 'response.completed' && done.response.model).toBe(u.model);
    expect(done?.type === 'response.completed' && done.response.usage?.output_tokens).toBe(6);
  });

  it('calls a function tool and takes its output back', async () => {
    const first = await client.responses.create({ model: u.model, input: 'Weather in Paris?', tools: [weather] });
    expect(validate('Response', first)).toEqual([]);
    const call = first.output.find((o) => o.type === 'function_call');
    expect(call?.type === 'function_call' && call.name).toBe('get_weather');
    if (call?.type !== 'function_call') return;
    expect(JSON.parse(call.arguments)).toHaveProperty('city');
    const second = await client.responses.create({
      model: u.model,
      tools: [weather],
      input: [
        { role: 'user', content: 'Weather in Paris?' },
        { type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments },
        { type: 'function_call_output', call_id: call.call_id, output: '{"temp": 21}' },
      ],
    });
    expect(validate('Response', second)).toEqual([]);
    expect(second.output_text.length).toBeGreaterThan(0);
  });

  it('streams function call arguments', async () => {
    const stream = await client.responses.create({
      model: u.model,
      input: 'Weather in Oslo?',
      tools: [weather],
      // Ollama cannot force a tool call (400); its models call tools when they choose to.
      tool_choice: u.provider === 'ollama' ? 'auto' : 'required',
      stream: true,
    });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const e of stream) events.push(e);
    for (const e of events) expect(validate('ResponseStreamEvent', e), e.type).toEqual([]);
    const args = events.flatMap((e) => (e.type === 'response.function_call_arguments.delta' ? [e.delta] : [])).join('');
    const done = events.find((e) => e.type === 'response.function_call_arguments.done');
    expect(done?.type === 'response.function_call_arguments.done' && done.arguments).toBe(args);
    expect(JSON.parse(args)).toHaveProperty('city');
  });

  it('ends a stream that fails upstream with the numbered error event', async () => {
    const stream = await client.responses.create({
      model: u.model,
      input: '[sim mid-stream-error=2] Go',
      stream: true,
    });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const e of stream) events.push(e);
    for (const e of events) expect(validate('ResponseStreamEvent', e), e.type).toEqual([]);
    expect(events.some((e) => e.type === 'response.output_text.delta')).toBe(true);
    expect(events.at(-1)?.type).toBe('error');
    expect(events.some((e) => e.type === 'response.completed')).toBe(false);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
  });

  it('answers an upstream failure in the OpenAI error shape', async () => {
    const err = await client.responses
      .create({ model: u.model, input: '[sim status=503] Hi' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBeGreaterThanOrEqual(500);
    expect((err as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({ type: 'server_error' });
  });

  it('refuses a request without input with a 400 naming the field', async () => {
    const err = await client.responses
      .create({ model: u.model } as unknown as OpenAI.Responses.ResponseCreateParamsNonStreaming)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err).toMatchObject({ param: 'input', error: { type: 'invalid_request_error' } });
  });

  it('refuses previous_response_id with a 400 naming it, before any attempt', async () => {
    const before = posts(u.model);
    const err = await client.responses
      .create({ model: u.model, input: 'x', previous_response_id: 'resp_123' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err).toMatchObject({ param: 'previous_response_id' });
    expect(posts(u.model)).toBe(before);
  });
});

describe('responses translated to chat', () => {
  it.each(UPSTREAMS.filter((u) => !u.native))('refuses a built-in tool for $model with a 400 naming it', async (u) => {
    const before = posts(u.model);
    const err = await client.responses
      .create({ model: u.model, input: 'x', tools: [{ type: 'web_search' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err).toMatchObject({ param: 'tools[0].type' });
    expect(posts(u.model)).toBe(before);
  });
});

describe('responses pass-through', () => {
  it('sends the body with the upstream model name and store: false', async () => {
    await client.responses.create({ model: 'vllm', input: 'Hi', store: true, metadata: { k: 'v' } });
    expect(inference('vllm').at(-1)?.body).toMatchObject({
      model: 'org/M',
      store: false,
      metadata: { k: 'v' },
    });
  });
});
