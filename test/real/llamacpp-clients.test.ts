/**
 * Real upstream: the official `openai`, `@anthropic-ai/sdk` and `ollama` clients through the proxy to a real
 * llama.cpp `llama-server` (tiny random-weight model: gibberish text, so lengths are pinned with max_tokens and
 * ignore_eos). Chat, completions and embeddings, streamed and not; usage equal to what the server itself counted
 * (its /metrics counters); the client's model name in every answer and every streamed chunk, although the server
 * reports the path of its GGUF file.
 */
import Anthropic from '@anthropic-ai/sdk';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { type LlamaServer, reportedModelName, startLlamaServer } from './llamacpp/index.js';
import {
  CHAT_MODEL,
  EMBED_MODEL,
  fetchFresh,
  processed,
  REAL_SETUP_TIMEOUT_MS,
  realManifests,
  serverCounters,
} from './support.js';

let chat: LlamaServer;
let embed: LlamaServer;
let proxy: TestProxy;
let openai: OpenAI;

beforeAll(async () => {
  [chat, embed] = await Promise.all([startLlamaServer(), startLlamaServer({ embeddings: true, parallel: 1 })]);
  proxy = await startTestProxy(realManifests({ chat: [chat], embed }));
  openai = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'unused', maxRetries: 0 });
}, REAL_SETUP_TIMEOUT_MS);

afterAll(async () => {
  await proxy?.stop();
  await Promise.all([chat?.stop(), embed?.stop()]);
});

/** What `chat` counted while `run` ran. */
async function counted<T>(run: () => Promise<T>): Promise<{ result: T; server: ReturnType<typeof processed> }> {
  const before = await serverCounters(chat);
  const result = await run();
  return { result, server: processed(before, await serverCounters(chat)) };
}

const ignoreEos = { ignore_eos: true } as Record<string, unknown>;

describe('OpenAI SDK → proxy → llama-server', () => {
  it('the server itself reports the path of its GGUF file, not the name asked for', async () => {
    const res = await fetchFresh(`${chat.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: CHAT_MODEL,
        messages: [{ role: 'user', content: 'hi' }],
        max_tokens: 2,
        stream: true,
      }),
    });
    const text = await res.text();
    expect(text).toContain(`"model":${JSON.stringify(await reportedModelName())}`);
  });

  it('completes a chat with the public model name and the server’s usage', async () => {
    const { result, server } = await counted(() =>
      openai.chat.completions.create({
        model: CHAT_MODEL,
        messages: [{ role: 'user', content: 'Tell me about the sea.' }],
        max_tokens: 8,
        ...ignoreEos,
      }),
    );
    expect(result.model).toBe(CHAT_MODEL);
    expect(result.object).toBe('chat.completion');
    expect(result.choices[0]?.finish_reason).toBe('length');
    expect(result.choices[0]?.message.role).toBe('assistant');
    expect(result.usage?.completion_tokens).toBe(8);
    expect(result.usage?.prompt_tokens).toBe(server.promptTokens);
    expect(result.usage?.completion_tokens).toBe(server.generatedTokens);
  });

  it('streams a chat: the public model name in every chunk, usage last, [DONE]', async () => {
    const { result: chunks, server } = await counted(async () => {
      const stream = await openai.chat.completions.create({
        model: CHAT_MODEL,
        messages: [{ role: 'user', content: 'Tell me about the mountains.' }],
        max_tokens: 12,
        stream: true,
        stream_options: { include_usage: true },
        ...ignoreEos,
      });
      const out: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
      for await (const c of stream) out.push(c);
      return out;
    });
    expect(chunks.length).toBeGreaterThan(3);
    expect(new Set(chunks.map((c) => c.model))).toEqual(new Set([CHAT_MODEL]));
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(chunks.some((c) => c.choices[0]?.finish_reason === 'length')).toBe(true);
    const usage = chunks.at(-1)?.usage;
    expect(chunks.at(-1)?.choices).toEqual([]);
    expect(usage?.completion_tokens).toBe(12);
    expect(usage?.prompt_tokens).toBe(server.promptTokens);
    expect(usage?.completion_tokens).toBe(server.generatedTokens);
  });

  it('streams a chat under a different upstream model name, still answering with the public one', async () => {
    const other = await startTestProxy(realManifests({ chat: [chat], upstreamName: 'served-as-this' }));
    try {
      const client = new OpenAI({ baseURL: `${other.url}/v1`, apiKey: 'unused', maxRetries: 0 });
      const stream = await client.chat.completions.create({
        model: CHAT_MODEL,
        messages: [{ role: 'user', content: 'Hello' }],
        max_tokens: 4,
        stream: true,
      });
      const models = new Set<string>();
      for await (const c of stream) models.add(c.model);
      expect(models).toEqual(new Set([CHAT_MODEL]));
    } finally {
      await other.stop();
    }
  });

  it('completes a prompt (legacy completions), streamed and not', async () => {
    const { result, server } = await counted(() =>
      openai.completions.create({ model: CHAT_MODEL, prompt: 'Once upon a time', max_tokens: 6, ...ignoreEos }),
    );
    expect(result.model).toBe(CHAT_MODEL);
    expect(result.object).toBe('text_completion');
    expect(result.choices[0]?.finish_reason).toBe('length');
    expect(result.usage?.completion_tokens).toBe(6);
    expect(result.usage?.prompt_tokens).toBe(server.promptTokens);

    const stream = await openai.completions.create({
      model: CHAT_MODEL,
      prompt: 'Once upon a time',
      max_tokens: 6,
      stream: true,
      ...ignoreEos,
    });
    const chunks: OpenAI.Completions.Completion[] = [];
    for await (const c of stream) chunks.push(c);
    expect(new Set(chunks.map((c) => c.model))).toEqual(new Set([CHAT_MODEL]));
    expect(chunks.some((c) => c.choices[0]?.finish_reason === 'length')).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.text ?? '').join('').length).toBeGreaterThan(0);
  });

  it('embeds a batch on the embeddings server', async () => {
    const before = await serverCounters(embed);
    const res = await openai.embeddings.create({ model: EMBED_MODEL, input: ['the sea', 'the mountains are high'] });
    expect(res.model).toBe(EMBED_MODEL);
    expect(res.data.map((d) => d.index)).toEqual([0, 1]);
    for (const d of res.data) {
      expect(d.embedding).toHaveLength(64);
      expect(d.embedding.every((v) => Number.isFinite(v))).toBe(true);
    }
    expect(res.data[0]?.embedding).not.toEqual(res.data[1]?.embedding);
    expect(res.usage.prompt_tokens).toBeGreaterThan(4);
    // The embeddings server generates nothing.
    expect((await serverCounters(embed)).tokens_predicted_total).toBe(before.tokens_predicted_total);
  });
});

describe('Anthropic SDK → proxy → llama-server (translated)', () => {
  const anthropic = () => new Anthropic({ baseURL: proxy.url, apiKey: 'unused', maxRetries: 0 });

  it('answers a message with the public model name and the server’s usage', async () => {
    const { result, server } = await counted(() =>
      anthropic().messages.create({
        model: CHAT_MODEL,
        max_tokens: 6,
        system: 'Be brief.',
        messages: [{ role: 'user', content: 'Hello there' }],
      }),
    );
    expect(result.type).toBe('message');
    expect(result.model).toBe(CHAT_MODEL);
    expect(result.content[0]?.type).toBe('text');
    expect(['max_tokens', 'end_turn']).toContain(result.stop_reason);
    // Anthropic counts the prompt tokens read from the cache apart from input_tokens.
    expect(result.usage.input_tokens + (result.usage.cache_read_input_tokens ?? 0)).toBe(server.promptTokens);
    expect(result.usage.cache_read_input_tokens ?? 0).toBe(server.cachedTokens);
    expect(result.usage.output_tokens).toBe(server.generatedTokens);
  });

  it('streams a message: Anthropic events in order, usage from the server', async () => {
    const { result: events, server } = await counted(async () => {
      const out: Anthropic.RawMessageStreamEvent[] = [];
      for await (const e of anthropic().messages.stream({
        model: CHAT_MODEL,
        max_tokens: 6,
        messages: [{ role: 'user', content: 'Hello again' }],
      }))
        out.push(e);
      return out;
    });
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('message_start');
    expect(types.at(-1)).toBe('message_stop');
    expect(types).toContain('content_block_delta');
    expect(types.indexOf('message_delta')).toBeGreaterThan(types.lastIndexOf('content_block_delta'));
    const start = events[0] as Anthropic.RawMessageStartEvent;
    expect(start.message.model).toBe(CHAT_MODEL);
    const delta = events.find((e) => e.type === 'message_delta') as Anthropic.RawMessageDeltaEvent;
    expect(delta.usage.output_tokens).toBe(server.generatedTokens);
  });
});

describe('ollama client → proxy → llama-server (translated)', () => {
  const ollama = () => new Ollama({ host: proxy.url });

  it('chats, streamed and not, with the public model name and the server’s counts', async () => {
    const { result, server } = await counted(() =>
      ollama().chat({
        model: CHAT_MODEL,
        messages: [{ role: 'user', content: 'Hi' }],
        stream: false,
        options: { num_predict: 5 },
      }),
    );
    expect(result.model).toBe(CHAT_MODEL);
    expect(result.done).toBe(true);
    expect(result.message.role).toBe('assistant');
    expect(result.prompt_eval_count).toBe(server.promptTokens);
    expect(result.eval_count).toBe(server.generatedTokens);

    const parts: Array<{ model: string; done: boolean; eval_count?: number }> = [];
    for await (const p of await ollama().chat({
      model: CHAT_MODEL,
      messages: [{ role: 'user', content: 'Hi again' }],
      stream: true,
      options: { num_predict: 5 },
    }))
      parts.push(p);
    expect(new Set(parts.map((p) => p.model))).toEqual(new Set([CHAT_MODEL]));
    expect(parts.at(-1)?.done).toBe(true);
    expect(parts.at(-1)?.eval_count).toBeLessThanOrEqual(5);
  });

  it('generates and embeds', async () => {
    const g = await ollama().generate({ model: CHAT_MODEL, prompt: 'Why', stream: false, options: { num_predict: 3 } });
    expect(g.model).toBe(CHAT_MODEL);
    expect(g.done).toBe(true);
    const e = await ollama().embed({ model: EMBED_MODEL, input: ['one', 'two'] });
    expect(e.model).toBe(EMBED_MODEL);
    expect(e.embeddings).toHaveLength(2);
    expect(e.embeddings[0]).toHaveLength(64);
  });
});
