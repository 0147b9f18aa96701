/**
 * Recorded streams written from the vendors' documented formats (test/fixtures/protocols) fed through the stream
 * translators in small pieces, as a network would deliver them, and read back in each client format.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.js';
import { AnthropicChunkDecoder } from './anthropic/stream-decoder.js';
import { AnthropicChunkEncoder } from './anthropic/stream-encoder.js';
import { type ChunkDecoder, type ChunkEncoder, TranslatingStream } from './canonical/stream.js';
import { OllamaChunkDecoder, OllamaChunkEncoder } from './ollama/stream.js';
import { OpenAIChunkDecoder, OpenAIChunkEncoder } from './openai/stream.js';

const FIXTURES = join(import.meta.dirname, '../../../test/fixtures/protocols');
const fixture = (name: string) => readFileSync(join(FIXTURES, name));

/** Feeds `bytes` in 7-byte pieces; returns all output and the output seen after the first half. */
function run(decoder: ChunkDecoder, encoder: ChunkEncoder, bytes: Buffer) {
  const t = new TranslatingStream(decoder, encoder);
  let out = '';
  let half = '';
  for (let i = 0; i < bytes.length; i += 7) {
    out += t.push(bytes.subarray(i, i + 7));
    if (i < bytes.length / 2) half = out;
  }
  const tail = t.end();
  if (tail instanceof GatewayError) throw tail;
  return { out: out + tail, half, usage: t.usage() };
}

interface OpenAIResult {
  text: string;
  calls: Array<{ id: string; name: string; args: string }>;
  finish: string | null;
  usage: unknown;
  done: boolean;
}

function readOpenAI(sse: string): OpenAIResult {
  const r: OpenAIResult = { text: '', calls: [], finish: null, usage: undefined, done: false };
  for (const ev of sse.split('\n\n').filter(Boolean)) {
    const data = ev.replace(/^data: /, '');
    if (data === '[DONE]') {
      r.done = true;
      continue;
    }
    const c = JSON.parse(data);
    if (c.usage) r.usage = c.usage;
    const ch = c.choices[0];
    if (!ch) continue;
    r.text += ch.delta.content ?? '';
    for (const tc of ch.delta.tool_calls ?? []) {
      r.calls[tc.index] ??= { id: tc.id, name: tc.function.name, args: '' };
      (r.calls[tc.index] as { args: string }).args += tc.function?.arguments ?? '';
    }
    r.finish = ch.finish_reason ?? r.finish;
  }
  return r;
}

function readAnthropic(sse: string) {
  return sse
    .split('\n\n')
    .filter(Boolean)
    .map((ev) => {
      const [eventLine, dataLine] = ev.split('\n');
      const data = JSON.parse((dataLine ?? '').replace(/^data: /, ''));
      expect(eventLine).toBe(`event: ${data.type}`);
      return data;
    });
}

describe('Anthropic stream → OpenAI client', () => {
  it('translates text, two tools with incremental arguments, stop reason and cache-inclusive usage', () => {
    const { out, half, usage } = run(
      new AnthropicChunkDecoder('gpt-pub'),
      new OpenAIChunkEncoder('gpt-pub', true),
      fixture('anthropic-stream-text-tools.sse'),
    );
    expect(half).toContain('Okay');
    const r = readOpenAI(out);
    expect(r.text).toBe("Okay, let's check the weather and the time.");
    expect(r.calls.map((c) => [c.id, c.name])).toEqual([
      ['toolu_01T1x1fJ34qAmk2tNTrN7Up6', 'get_weather'],
      ['toolu_01VQ2bSaMfN8gQ1pZbHmtjGa', 'get_time'],
    ]);
    expect(JSON.parse(r.calls[0]?.args ?? '')).toEqual({ location: 'San Francisco, CA', unit: 'fahrenheit' });
    expect(JSON.parse(r.calls[1]?.args ?? '')).toEqual({ timezone: 'America/Los_Angeles' });
    expect(r.finish).toBe('tool_calls');
    expect(r.usage).toEqual({
      prompt_tokens: 600,
      completion_tokens: 89,
      total_tokens: 689,
      prompt_tokens_details: { cached_tokens: 128 },
    });
    expect(usage).toEqual({ inputTokens: 600, outputTokens: 89, cachedInputTokens: 128 });
    expect(r.done).toBe(true);
  });

  it('strips the usage chunk when the client did not ask for it', () => {
    const { out } = run(
      new AnthropicChunkDecoder('m'),
      new OpenAIChunkEncoder('m', false),
      fixture('anthropic-stream-text-tools.sse'),
    );
    expect(out).not.toContain('"usage"');
  });

  it('throws the upstream error event as an overloaded error with 503, the status OpenAI clients know', () => {
    const t = new TranslatingStream(new AnthropicChunkDecoder('m'), new OpenAIChunkEncoder('m', false));
    expect(() => t.push(fixture('anthropic-stream-error.sse'))).toThrow(
      expect.objectContaining({ status: 503, kind: 'overloaded', message: 'Overloaded' }),
    );
  });
});

describe('OpenAI stream → Anthropic client', () => {
  it('emits the documented event sequence with tool_use blocks and input_json_delta', () => {
    const { out } = run(
      new OpenAIChunkDecoder(),
      new AnthropicChunkEncoder('claude-pub'),
      fixture('openai-stream-text-tools.sse'),
    );
    const events = readAnthropic(out);
    expect(events.map((e) => (e.type === 'content_block_delta' ? `delta:${e.delta.type}` : e.type))).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      'delta:text_delta',
      'content_block_stop',
      'content_block_start',
      'delta:input_json_delta',
      'delta:input_json_delta',
      'content_block_stop',
      'content_block_start',
      'delta:input_json_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(events[0].message.model).toBe('claude-pub');
    expect(events[5].content_block).toEqual({
      type: 'tool_use',
      id: 'call_DdmO9pD3xa9XTPNJ32zg2hcA',
      name: 'get_weather',
      input: {},
    });
    const args = events
      .filter((e) => e.index === 1 && e.delta)
      .map((e) => e.delta.partial_json)
      .join('');
    expect(JSON.parse(args)).toEqual({ location: 'Paris, France' });
    expect(events.filter((e) => e.type === 'content_block_start').map((e) => e.index)).toEqual([0, 1, 2]);
    expect(events.at(-2)).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: { input_tokens: 472, cache_creation_input_tokens: 0, cache_read_input_tokens: 128, output_tokens: 42 },
    });
  });

  it('turns an OpenAI stream into Ollama lines with whole tool calls and final counts', () => {
    const { out } = run(
      new OpenAIChunkDecoder(),
      new OllamaChunkEncoder('llama-pub', 'chat'),
      fixture('openai-stream-text-tools.sse'),
    );
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.message.content).join('')).toBe('Checking both.');
    const calls = lines.flatMap((l) => l.message.tool_calls ?? []);
    expect(calls).toEqual([
      { function: { name: 'get_weather', arguments: { location: 'Paris, France' } } },
      { function: { name: 'get_time', arguments: { timezone: 'Europe/Paris' } } },
    ]);
    expect(lines.at(-1)).toMatchObject({
      done: true,
      done_reason: 'stop',
      prompt_eval_count: 600,
      eval_count: 42,
      model: 'llama-pub',
    });
    expect(lines.slice(0, -1).every((l) => l.done === false)).toBe(true);
  });
});

describe('Ollama stream → other clients', () => {
  it('becomes OpenAI chunks with generated call ids and tool_calls finish', () => {
    const { out, usage } = run(
      new OllamaChunkDecoder('pub'),
      new OpenAIChunkEncoder('pub', true),
      fixture('ollama-chat-stream-tools.ndjson'),
    );
    const r = readOpenAI(out);
    expect(r.text).toBe('Let me check.');
    expect(r.calls.map((c) => c.name)).toEqual(['get_weather', 'get_time']);
    expect(r.calls.every((c) => c.id.startsWith('call_'))).toBe(true);
    expect(JSON.parse(r.calls[1]?.args ?? '')).toEqual({ timezone: 'Europe/Paris' });
    expect(r.finish).toBe('tool_calls');
    expect(usage).toEqual({ inputTokens: 26, outputTokens: 31 });
  });

  it('becomes Anthropic events ending with tool_use', () => {
    const { out } = run(
      new OllamaChunkDecoder('pub'),
      new AnthropicChunkEncoder('pub'),
      fixture('ollama-chat-stream-tools.ndjson'),
    );
    const events = readAnthropic(out);
    expect(events.filter((e) => e.type === 'content_block_start').map((e) => e.content_block.type)).toEqual([
      'text',
      'tool_use',
      'tool_use',
    ]);
    expect(events.at(-2)).toMatchObject({
      delta: { stop_reason: 'tool_use' },
      usage: { input_tokens: 26, output_tokens: 31 },
    });
  });

  it('throws an error line as an upstream error', () => {
    const t = new TranslatingStream(new OllamaChunkDecoder('m'), new OpenAIChunkEncoder('m', false));
    expect(() => t.push(fixture('ollama-chat-stream-error.ndjson'))).toThrow(/unexpected EOF/);
  });

  it('reports a stream cut before done as incomplete', () => {
    const t = new TranslatingStream(new OllamaChunkDecoder('m'), new OpenAIChunkEncoder('m', false));
    t.push(Buffer.from('{"model":"m","message":{"role":"assistant","content":"x"},"done":false}\n'));
    expect(t.end()).toBeInstanceOf(GatewayError);
  });
});
