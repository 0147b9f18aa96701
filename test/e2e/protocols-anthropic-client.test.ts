/**
 * The official @anthropic-ai/sdk against the proxy, served by a vLLM-flavour simulator pool (OpenAI protocol
 * upstream): text, tools (names, ids, parsed arguments), stop reasons, usage, streaming, count_tokens, models,
 * error shape, and a mid-stream upstream failure ending with an `event: error`.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../sim/index.js';
import { poolManifests, startTestProxy, type TestProxy } from '../support/proxy.js';

let sim: Simulator;
let proxy: TestProxy;
let client: Anthropic;

const tools: Anthropic.Tool[] = [
  {
    name: 'get_weather',
    description: 'Weather for a city',
    input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
  {
    name: 'get_time',
    description: 'Time in a zone',
    input_schema: { type: 'object', properties: { zone: { type: 'string' } }, required: ['zone'] },
  },
];

beforeAll(async () => {
  sim = await startSimulator({ flavour: 'vllm', models: ['llama'] });
  proxy = await startTestProxy(poolManifests({ model: 'claude-local', upstreamName: 'llama', urls: [sim.url] }));
  client = new Anthropic({ baseURL: proxy.url, apiKey: 'test-key', maxRetries: 0 });
});

afterAll(async () => {
  await proxy?.stop();
  await sim?.close();
});

describe('Anthropic SDK → proxy → vLLM', () => {
  it('answers a non-streamed message with text, stop reason and usage', async () => {
    sim.resetStats();
    const msg = await client.messages.create({
      model: 'claude-local',
      max_tokens: 50,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Hello [sim output=Hi there]' }],
    });
    expect(msg.type).toBe('message');
    expect(msg.model).toBe('claude-local');
    expect(msg.content).toEqual([{ type: 'text', text: 'Hi there' }]);
    expect(msg.stop_reason).toBe('end_turn');
    expect(msg.usage.input_tokens).toBeGreaterThan(0);
    expect(msg.usage.output_tokens).toBeGreaterThan(0);
    const sent = sim.requests().at(-1)?.body as {
      model: string;
      messages: Array<{ role: string }>;
      max_tokens: number;
    };
    expect(sent.model).toBe('llama');
    expect(sent.messages[0]).toEqual({ role: 'system', content: 'Be brief.' });
    expect(sent.max_tokens).toBe(50);
  });

  it('returns two tool_use blocks with ids, names and parsed input', async () => {
    const msg = await client.messages.create({
      model: 'claude-local',
      max_tokens: 200,
      tools,
      tool_choice: { type: 'any' },
      messages: [{ role: 'user', content: 'Weather and time? [sim tool-calls=2]' }],
    });
    expect(msg.stop_reason).toBe('tool_use');
    const uses = msg.content.filter((b) => b.type === 'tool_use');
    expect(uses.map((u) => u.name)).toEqual(['get_weather', 'get_time']);
    for (const u of uses) {
      expect(u.id).toMatch(/\S+/);
      expect(typeof u.input).toBe('object');
    }
    expect(typeof ((uses[0]?.input ?? {}) as { city?: unknown }).city).toBe('string');
  });

  it('streams text through the SDK with usage and stop reason', async () => {
    const stream = client.messages.stream({
      model: 'claude-local',
      max_tokens: 50,
      messages: [{ role: 'user', content: 'Hello [sim output=one two three four]' }],
    });
    const deltas: string[] = [];
    stream.on('text', (t) => deltas.push(t));
    const final = await stream.finalMessage();
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe('one two three four');
    expect(final.content).toEqual([{ type: 'text', text: 'one two three four' }]);
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage.input_tokens).toBeGreaterThan(0);
    expect(final.usage.output_tokens).toBeGreaterThan(0);
  });

  it('streams two tool calls as input_json_delta and the SDK parses their input', async () => {
    const stream = client.messages.stream({
      model: 'claude-local',
      max_tokens: 200,
      tools,
      tool_choice: { type: 'any' },
      messages: [{ role: 'user', content: 'Both please [sim tool-calls=2]' }],
    });
    let jsonDeltas = 0;
    stream.on('inputJson', () => jsonDeltas++);
    const final = await stream.finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    const uses = final.content.filter((b) => b.type === 'tool_use');
    expect(uses).toHaveLength(2);
    expect(new Set(uses.map((u) => u.id)).size).toBe(2);
    expect(typeof ((uses[0]?.input ?? {}) as { city?: unknown }).city).toBe('string');
    expect(typeof ((uses[1]?.input ?? {}) as { zone?: unknown }).zone).toBe('string');
    expect(jsonDeltas).toBeGreaterThan(1);
  });

  it('sends tool results back as OpenAI tool messages', async () => {
    sim.resetStats();
    const msg = await client.messages.create({
      model: 'claude-local',
      max_tokens: 30,
      tools,
      messages: [
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Oslo' } }],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' }] },
      ],
    });
    expect(msg.stop_reason).toBe('end_turn');
    const sent = sim.requests().at(-1)?.body as { messages: unknown[] };
    expect(sent.messages.slice(1)).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'toolu_1', content: 'sunny' },
    ]);
  });

  it('reports max_tokens as the stop reason when the limit cuts the answer', async () => {
    const msg = await client.messages.create({
      model: 'claude-local',
      max_tokens: 2,
      messages: [{ role: 'user', content: 'Long please [sim output-tokens=20]' }],
    });
    expect(msg.stop_reason).toBe('max_tokens');
    expect(msg.usage.output_tokens).toBe(2);
  });

  it('counts tokens locally for a non-Anthropic upstream', async () => {
    const r = await client.messages.countTokens({
      model: 'claude-local',
      messages: [{ role: 'user', content: 'x'.repeat(400) }],
    });
    expect(r.input_tokens).toBe(104);
  });

  it('lists models in Anthropic shape', async () => {
    const page = await client.models.list();
    expect(page.data.map((m) => m.id)).toContain('claude-local');
    expect(page.data[0]?.type).toBe('model');
  });

  it('answers errors in Anthropic shape', async () => {
    const err = await client.messages
      .create(
        { model: 'nope', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] },
        { headers: { 'x-request-id': 'req-anthropic-404' } },
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.NotFoundError);
    const e = err as InstanceType<typeof Anthropic.NotFoundError>;
    expect(e.status).toBe(404);
    expect((e.error as { type: string; error: { type: string } }).error.type).toBe('not_found_error');
    // The request id, as Anthropic sends it: in the body and as the `request-id` header the SDK exposes.
    expect((e.error as { request_id?: string }).request_id).toBe('req-anthropic-404');
    expect(e.requestID).toBe('req-anthropic-404');
    const bad = await fetch(`${proxy.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-local', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });

  it.each([
    [[{ type: 'text' }], 'text'],
    [[{ type: 'image', source: { type: 'base64', media_type: 'image/bmp', data: 'AAAA' } }], 'source.media_type'],
    [[{ type: 'tool_result', content: 'done' }], 'tool_use_id'],
  ])('refuses a malformed content block %j with a 400 naming its field', async (content, field) => {
    const r = await fetch(`${proxy.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'claude-local', max_tokens: 5, messages: [{ role: 'user', content }] }),
    });
    expect(r.status).toBe(400);
    const j = (await r.json()) as { type: string; error: { type: string; message: string } };
    expect(j.type).toBe('error');
    expect(j.error.type).toBe('invalid_request_error');
    expect(j.error.message).toContain(`messages[0].content[0].${field}`);
  });

  it('refuses an untranslatable field with a 400 naming it', async () => {
    const r = await fetch(`${proxy.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'claude-local',
        max_tokens: 5,
        messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'text', data: 'x' } }] }],
      }),
    });
    expect(r.status).toBe(400);
    const j = (await r.json()) as { error: { type: string; message: string } };
    expect(j.error.type).toBe('invalid_request_error');
    expect(j.error.message).toContain('messages.0.content.0.type');
  });

  it('ends a stream that fails upstream with an Anthropic error event', async () => {
    const r = await fetch(`${proxy.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({
        model: 'claude-local',
        max_tokens: 50,
        stream: true,
        messages: [{ role: 'user', content: 'hi [sim output-tokens=10; mid-stream-error=2]' }],
      }),
    });
    const text = await r.text();
    expect(text).toContain('event: message_start');
    expect(text.trimEnd()).toMatch(/event: error\ndata: \{"type":"error","error":\{"type":"api_error"/);
    expect(text).not.toContain('message_stop');
  });
});
