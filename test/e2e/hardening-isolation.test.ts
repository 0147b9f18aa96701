/**
 * Per-request fault isolation and "an error before the first byte is an error" (issue 13, items 1–2), against a
 * scripted upstream that speaks each protocol (OpenAI SSE, Anthropic SSE, Ollama NDJSON) and misbehaves on demand:
 * an answer that breaks a translator ends only its own request, and an upstream whose first event is an error or
 * malformed is a failed attempt (retried; when it cannot be recovered, a non-2xx in the surface's shape).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { measureRequest } from '../support/metrics-scrape.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import {
  answer,
  openAIChunk,
  type Protocol,
  protocolOf,
  protocolPools,
  type ScriptedUpstream,
  type Surface,
  startScriptedUpstream,
  surfaceChat,
  VIA,
} from '../support/scripted-upstream.js';
import { routePolicy } from './governance-fixtures.js';

type Behaviour = 'good' | 'error-first' | 'malformed-first' | 'done-first' | 'empty';

const anthropicEvent = (type: string, data: Record<string, unknown>) =>
  `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

const ndjson = (v: Record<string, unknown>) => `${JSON.stringify(v)}\n`;

/** A complete, well-formed streamed answer "hello" in `protocol`. */
function goodStream(protocol: Protocol): string[] {
  if (protocol === 'openai')
    return [
      openAIChunk({ role: 'assistant', content: '' }),
      openAIChunk({ content: 'hello' }),
      openAIChunk({}, 'stop'),
      'data: [DONE]\n\n',
    ];
  if (protocol === 'anthropic')
    return [
      anthropicEvent('message_start', {
        message: {
          id: 'msg_1',
          type: 'message',
          role: 'assistant',
          model: 'up',
          content: [],
          usage: { input_tokens: 3, output_tokens: 1 },
        },
      }),
      anthropicEvent('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
      anthropicEvent('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'hello' } }),
      anthropicEvent('content_block_stop', { index: 0 }),
      anthropicEvent('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 1 } }),
      anthropicEvent('message_stop', {}),
    ];
  return [
    ndjson({ model: 'up', message: { role: 'assistant', content: 'hello' }, done: false }),
    ndjson({
      model: 'up',
      message: { role: 'assistant', content: '' },
      done: true,
      done_reason: 'stop',
      eval_count: 1,
    }),
  ];
}

/** A first event that is an upstream error, in `protocol`'s own shape. */
function errorFirst(protocol: Protocol): string[] {
  if (protocol === 'openai')
    return ['data: {"error":{"message":"engine crashed","type":"server_error"}}\n\n', 'data: [DONE]\n\n'];
  if (protocol === 'anthropic')
    return [anthropicEvent('error', { error: { type: 'api_error', message: 'engine crashed' } })];
  return ['{"error":"engine crashed"}\n'];
}

function malformedFirst(protocol: Protocol): string[] {
  if (protocol === 'ollama') return ['{"message": {"content": "hel\n'];
  return [protocol === 'anthropic' ? 'event: message_start\ndata: {"type": "mess\n\n' : 'data: {"choices": [\n\n'];
}

/**
 * Ends the stream before any answer: OpenAI with only `[DONE]`, Anthropic with `message_stop` and no
 * `message_start`. (A bare `{"done":true}` line is a valid Ollama answer: Ollama sends it for a load request.)
 */
function doneFirst(protocol: Protocol): string[] {
  return protocol === 'anthropic' ? [anthropicEvent('message_stop', {})] : ['data: [DONE]\n\n'];
}

/** An OpenAI stream whose tool call arguments are cut off by max_tokens (not a JSON object). */
function cutToolCall(textFirst: boolean): string[] {
  return [
    openAIChunk({ role: 'assistant', content: textFirst ? 'Let me look.' : '' }),
    openAIChunk({
      tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'weather', arguments: '' } }],
    }),
    openAIChunk({ tool_calls: [{ index: 0, function: { arguments: '{"city": "Par' } }] }),
    openAIChunk({}, 'length'),
    'data: [DONE]\n\n',
  ];
}

const FRAMES: Record<Behaviour, (p: Protocol) => string[]> = {
  good: goodStream,
  'error-first': errorFirst,
  'malformed-first': malformedFirst,
  'done-first': doneFirst,
  empty: () => [],
};

let upstream: ScriptedUpstream;
let proxy: TestProxy;
/** Behaviour of each upstream request in turn (requests offering tools excepted); `good` once the list is used up. */
let plan: Behaviour[] = [];
let textBeforeToolCall = false;

beforeAll(async () => {
  upstream = await startScriptedUpstream((req, res) => {
    const b = plan.shift() ?? 'good';
    const protocol = protocolOf(req);
    const frames = JSON.stringify(req.body).includes('"tools"') ? cutToolCall(textBeforeToolCall) : FRAMES[b](protocol);
    answer(res, frames, protocol === 'ollama' ? 'application/x-ndjson' : 'text/event-stream');
  });
  const common = {
    backendSpec: '  healthCheck: { enabled: false }',
    poolSpec: '  retry: { attempts: 2, backoff: { base: 1ms, max: 1ms }, budget: { ratio: 1, minPerSecond: 1000 } }',
  };
  proxy = await startTestProxy(
    [
      protocolPools(upstream.url, common),
      routePolicy(
        'limited',
        '  rules: [{ match: { model: { value: via-openai } } }]\n  rateLimits: [{ scope: global, limits: { requestsPerMinute: 100000 } }]',
      ),
    ].join('\n---\n'),
  );
});
beforeEach(() => {
  plan = [];
  textBeforeToolCall = false;
});
afterAll(async () => {
  await proxy?.stop();
  await upstream?.close();
});

const streamRequest = (surface: Surface, model: string, extra: Record<string, unknown> = {}) =>
  surfaceChat(proxy.url, surface, model, { stream: true, extra });

/** The error message of a non-streamed error body in `surface`'s shape (fails the test for any other shape). */
function errorMessage(surface: Surface, body: unknown): string {
  const b = body as { error?: unknown; type?: string };
  if (surface === 'ollama') return b.error as string;
  if (surface === 'anthropic') expect(b.type).toBe('error');
  return (b.error as { message: string }).message;
}

const weatherTool = {
  type: 'function',
  function: { name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
};

describe('fault isolation', () => {
  it('a cut-off tool call relayed to an Ollama client fails only its own stream', async () => {
    textBeforeToolCall = true;
    const bystander = streamRequest('openai', 'via-openai');
    const res = await streamRequest('ollama', 'via-openai', { tools: [weatherTool] });
    expect(res.status).toBe(200);
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]?.message).toMatchObject({ content: 'Let me look.' });
    expect(String(lines.at(-1)?.error)).toMatch(/tool call arguments must be a JSON object/);
    expect(lines.some((l) => l.done === true)).toBe(false);
    const other = await bystander;
    expect(other.status).toBe(200);
    expect(await other.text()).toContain('data: [DONE]');
    // The proxy is still serving.
    const after = await streamRequest('ollama', 'via-openai');
    expect(after.status).toBe(200);
    expect(await after.text()).toContain('"done":true');
  });

  it('a cut-off tool call before any byte reached the client is a 502 in the surface shape', async () => {
    const res = await streamRequest('ollama', 'via-openai', { tools: [weatherTool] });
    expect(res.status).toBe(502);
    expect(errorMessage('ollama', await res.json())).toMatch(/tool call arguments/);
    expect(upstream.received.length).toBeGreaterThan(0);
  });
});

describe('an error before the first byte is an error', () => {
  const cases: Array<[Surface, Protocol]> = [];
  for (const s of ['openai', 'anthropic', 'ollama'] as const)
    for (const p of ['openai', 'anthropic', 'ollama'] as const) cases.push([s, p]);
  const bad: Behaviour[] = ['error-first', 'malformed-first', 'done-first', 'empty'];

  const badFor = (p: Protocol) => bad.filter((b) => p !== 'ollama' || b !== 'done-first');

  it.each(cases)('%s client, %s upstream: a bad first event is retried', async (surface, protocol) => {
    for (const b of badFor(protocol)) {
      plan = [b];
      const before = upstream.received.length;
      const res = await streamRequest(surface, VIA[protocol]);
      const text = await res.text();
      expect(res.status, `${b}: ${text}`).toBe(200);
      expect(text, b).toContain('hello');
      expect(upstream.received.length - before, b).toBe(2);
      expect(res.headers.get('x-switchyard-attempts'), b).toBe('2');
    }
  });

  it.each(cases)('%s client, %s upstream: unrecoverable, it is a non-2xx error', async (surface, protocol) => {
    for (const b of badFor(protocol)) {
      plan = [b, b];
      const res = await streamRequest(surface, VIA[protocol]);
      expect(res.status, b).toBe(502);
      expect(res.headers.get('x-request-id'), b).toBeTruthy();
      expect(errorMessage(surface, await res.json()).length, b).toBeGreaterThan(0);
    }
  });

  it('the error carries the rate-limit headers of the request; metrics count both failed attempts', async () => {
    plan = ['error-first', 'error-first'];
    const { res, delta } = await measureRequest(proxy.adminUrl, () => streamRequest('openai', 'via-openai'));
    expect(res.status).toBe(502);
    expect(res.headers.get('x-ratelimit-limit-requests')).toBe('100000');
    expect(res.headers.get('x-ratelimit-remaining-requests')).toBeTruthy();
    expect(delta.of('switchyard_upstream_attempts_total', { outcome: 'server_error' })).toBe(2);
    expect(delta.of('switchyard_requests_total', { status_class: '5xx' })).toBe(1);
    expect(delta.of('switchyard_requests_total', { status_class: '2xx' })).toBe(0);
  });
});
