import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from './index.js';

const tool = {
  name: 'get_weather',
  description: 'Weather of a city',
  input_schema: {
    type: 'object' as const,
    properties: { city: { type: 'string' }, days: { type: 'integer' } },
    required: ['city'],
  },
};

describe('simulator: Anthropic Messages protocol through @anthropic-ai/sdk', () => {
  let sim: Simulator;
  let client: Anthropic;
  beforeAll(async () => {
    sim = await startSimulator({ flavour: 'anthropic', models: ['claude-sim'], apiKey: 'sk-ant-test' });
    client = new Anthropic({ baseURL: sim.url, apiKey: 'sk-ant-test', maxRetries: 0 });
  });
  afterAll(() => sim.close());

  it('creates a message with usage and end_turn', async () => {
    const msg = await client.messages.create({
      model: 'claude-sim',
      max_tokens: 1024,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Hello Claude' }],
    });
    expect(msg.id).toMatch(/^msg_01/);
    expect(msg.type).toBe('message');
    expect(msg.stop_reason).toBe('end_turn');
    expect(msg.content[0]?.type).toBe('text');
    expect(msg.usage).toMatchObject({ input_tokens: 9, output_tokens: 16, cache_read_input_tokens: 0 });
    const headers = sim.requests().at(-1)?.headers ?? {};
    expect(headers['anthropic-version']).toBeTruthy();
    expect([headers['x-api-key'], headers.authorization]).toContainEqual(expect.stringContaining('sk-ant-test'));
  });

  it('reports max_tokens and stop_sequence stop reasons', async () => {
    const short = await client.messages.create({
      model: 'claude-sim',
      max_tokens: 2,
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(short.stop_reason).toBe('max_tokens');
    expect(short.usage.output_tokens).toBe(2);
    const stopped = await client.messages.create(
      { model: 'claude-sim', max_tokens: 100, stop_sequences: ['END'], messages: [{ role: 'user', content: 'x' }] },
      { headers: { 'x-sim-output': 'one two END three' } },
    );
    expect(stopped.stop_reason).toBe('stop_sequence');
    expect(stopped.stop_sequence).toBe('END');
    expect(stopped.content).toEqual([{ type: 'text', text: 'one two ' }]);
  });

  it('streams text that the SDK accumulates into the final message', async () => {
    const stream = client.messages.stream({
      model: 'claude-sim',
      max_tokens: 50,
      messages: [{ role: 'user', content: 'Stream to me' }],
    });
    const deltas: string[] = [];
    stream.on('text', (t) => deltas.push(t));
    const final = await stream.finalMessage();
    expect(deltas).toHaveLength(16);
    expect(final.content[0]).toMatchObject({ type: 'text', text: deltas.join('') });
    expect(final.usage.output_tokens).toBe(16);
  });

  it('streams tool_use blocks whose partial JSON the SDK parses into input', async () => {
    const stream = client.messages.stream(
      {
        model: 'claude-sim',
        max_tokens: 200,
        tools: [tool],
        messages: [{ role: 'user', content: 'Weather in Rome?' }],
      },
      { headers: { 'x-sim-tool-calls': '2' } },
    );
    const final = await stream.finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    expect(final.content).toHaveLength(2);
    for (const block of final.content) {
      if (block.type !== 'tool_use') throw new Error(`unexpected block ${block.type}`);
      expect(block.id).toMatch(/^toolu_01/);
      expect(block.name).toBe('get_weather');
      expect(typeof (block.input as { city: unknown }).city).toBe('string');
    }
    // A tool result turn is answered with text.
    const first = final.content[0] as Anthropic.ToolUseBlock;
    const next = await client.messages.create({
      model: 'claude-sim',
      max_tokens: 200,
      tools: [tool],
      messages: [
        { role: 'user', content: 'Weather in Rome?' },
        { role: 'assistant', content: final.content },
        {
          role: 'user',
          content: final.content.map((b) => ({
            type: 'tool_result' as const,
            tool_use_id: (b as Anthropic.ToolUseBlock).id,
            content: 'sunny',
          })),
        },
      ],
    });
    expect(first.input).toBeTruthy();
    expect(next.stop_reason).toBe('end_turn');
  });

  it('surfaces a 529 overloaded_error as APIError with status 529', async () => {
    const err = await client.messages
      .create(
        { model: 'claude-sim', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] },
        { headers: { 'x-sim-fault': 'status=529' } },
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
    expect((err as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
    });
  });

  it('counts tokens and lists models', async () => {
    const count = await client.messages.countTokens({
      model: 'claude-sim',
      messages: [{ role: 'user', content: 'Hello Claude' }],
    });
    expect(count).toEqual({ input_tokens: 4 });
    const models = await client.models.list();
    expect(models.data).toEqual([
      { type: 'model', id: 'claude-sim', display_name: 'claude-sim', created_at: expect.any(String) },
    ]);
  });

  it('validates like the real API (headers, max_tokens, roles, key) with request ids', async () => {
    const post = (body: unknown, headers: Record<string, string>) =>
      fetch(`${sim.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    const ok = { 'x-api-key': 'sk-ant-test', 'anthropic-version': '2023-06-01' };
    const noVersion = await post({}, { 'x-api-key': 'sk-ant-test' });
    expect(noVersion.status).toBe(400);
    const body = (await noVersion.json()) as { request_id: string; error: { message: string } };
    expect(body.error.message).toBe('anthropic-version: header is required');
    expect(noVersion.headers.get('request-id')).toBe(body.request_id);
    const noMax = await post({ model: 'claude-sim', messages: [{ role: 'user', content: 'x' }] }, ok);
    expect(((await noMax.json()) as { error: { message: string } }).error.message).toBe('max_tokens: Field required');
    const system = await post({ model: 'claude-sim', max_tokens: 5, messages: [{ role: 'system', content: 'x' }] }, ok);
    expect(system.status).toBe(400);
    const unknown = await post({ model: 'nope', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }, ok);
    expect(unknown.status).toBe(404);
    const noKey = await post({}, { 'anthropic-version': '2023-06-01' });
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
  });

  it('frames the stream exactly: event line, data line, blank line, in the documented order', async () => {
    const r = await fetch(`${sim.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-test', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({
        model: 'claude-sim',
        max_tokens: 2,
        stream: true,
        messages: [{ role: 'user', content: 'x' }],
      }),
    });
    expect(r.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(r.headers.get('request-id')).toMatch(/^req_01/);
    const text = await r.text();
    const frames = text.split('\n\n').filter(Boolean);
    expect(text.endsWith('\n\n')).toBe(true);
    for (const f of frames) expect(f).toMatch(/^event: [a-z_]+\ndata: \{.*\}$/);
    expect(frames.map((f) => f.slice(7, f.indexOf('\n')))).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    const start = JSON.parse(frames[0]!.split('data: ')[1]!);
    expect(start.message.usage.output_tokens).toBe(1);
    expect(start.message.content).toEqual([]);
    const delta = JSON.parse(frames[6]!.split('data: ')[1]!);
    expect(delta).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'max_tokens', stop_sequence: null },
      usage: { output_tokens: 2 },
    });
  });
});
