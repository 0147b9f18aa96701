/**
 * Reasoning across protocols, end to end with the official SDKs against simulators of reasoning models (vLLM's
 * `reasoning`, llama.cpp's `reasoning_content`, Anthropic thinking blocks with signatures, Ollama `thinking`):
 * what a client asks for (Anthropic `thinking`, OpenAI `reasoning_effort`, Responses `reasoning.effort`, Ollama
 * `think`) reaches each upstream in its own terms or is dropped with `x-switchyard-dropped`, never refused; the
 * reasoning comes back in the client's own shape, streamed and not; earlier turns' reasoning goes back to each
 * upstream as it reads it, and Anthropic signatures only to Anthropic.
 */
import Anthropic from '@anthropic-ai/sdk';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAPIValidator } from '../support/openapi.js';
import { startUpstreamSet, type UpstreamSet } from '../support/upstream-set.js';

const validate = openAPIValidator();

const UPSTREAMS = [
  { model: 'vllm', flavour: 'vllm', provider: 'vllm', upstream: 'org/R1' },
  { model: 'llama', flavour: 'llamacpp', provider: 'llamacpp', upstream: 'r1' },
  { model: 'claude', flavour: 'anthropic', provider: 'anthropic', upstream: 'claude-r' },
  { model: 'ollama', flavour: 'ollama', provider: 'ollama', upstream: 'qwen3' },
] as const;
type Model = (typeof UPSTREAMS)[number]['model'];

let set: UpstreamSet;
let openai: OpenAI;
let anthropic: Anthropic;
let ollama: Ollama;

beforeAll(async () => {
  set = await startUpstreamSet(UPSTREAMS, { outputTokens: 4, reasoning: true });
  const proxy = set.proxy;
  openai = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: proxy.url, apiKey: 'unused', maxRetries: 0 });
  ollama = new Ollama({ host: proxy.url });
});

afterAll(async () => {
  await set?.close();
});

/** The body of the last inference request `model`'s upstream received. */
const lastBody = (model: Model) => set.inference(model).at(-1)?.body as Record<string, unknown>;

const words = (s: string | null | undefined) => (s ?? '').trim().split(/\s+/).filter(Boolean).length;

describe('Anthropic clients: extended thinking on every upstream', () => {
  it.each(['vllm', 'llama', 'ollama'] as const)('asks %s to reason and answers with a thinking block', async (m) => {
    const r = await anthropic.messages.create({
      model: m,
      max_tokens: 4000,
      thinking: { type: 'enabled', budget_tokens: 2048 },
      messages: [{ role: 'user', content: 'Why is the sky blue?' }],
    });
    expect(r.content.map((b) => b.type)).toEqual(['thinking', 'text']);
    const thinking = r.content[0];
    expect(thinking?.type === 'thinking' && words(thinking.thinking)).toBe(5);
    const body = lastBody(m);
    if (m === 'ollama') expect(body.think).toBe(true);
    else expect(body.reasoning_effort).toBe('low');
  });

  it('streams thinking deltas before the text', async () => {
    const stream = anthropic.messages.stream({
      model: 'llama',
      max_tokens: 4000,
      thinking: { type: 'enabled', budget_tokens: 8192 },
      messages: [{ role: 'user', content: 'Think first' }],
    });
    const kinds: string[] = [];
    for await (const e of stream) if (e.type === 'content_block_delta') kinds.push(e.delta.type);
    expect(kinds.slice(0, 5)).toEqual(Array(5).fill('thinking_delta'));
    expect(kinds.at(-1)).toBe('text_delta');
    const final = await stream.finalMessage();
    expect(final.content[0]?.type).toBe('thinking');
    expect(lastBody('llama').reasoning_effort).toBe('medium');
  });

  it('sends earlier thinking back as each upstream reads it, without the signature', async () => {
    const history: Anthropic.MessageParam[] = [
      { role: 'user', content: 'First question' },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'Let me think.', signature: 'sig-from-claude' },
          { type: 'text', text: 'An answer.' },
        ],
      },
      { role: 'user', content: 'And then?' },
    ];
    const field = { vllm: 'reasoning', llama: 'reasoning_content', ollama: 'thinking' } as const;
    for (const m of ['vllm', 'llama', 'ollama'] as const) {
      await anthropic.messages.create({ model: m, max_tokens: 100, messages: history });
      const assistant = (lastBody(m).messages as Record<string, unknown>[])[1];
      expect(assistant?.[field[m]]).toBe('Let me think.');
      expect(JSON.stringify(lastBody(m))).not.toContain('sig-from-claude');
    }
  });
});

describe('OpenAI chat clients: reasoning_effort', () => {
  it('becomes Anthropic extended thinking, and the reasoning comes back with its signature', async () => {
    const { data, response } = await openai.chat.completions
      .create({ model: 'claude', reasoning_effort: 'medium', messages: [{ role: 'user', content: 'Hi' }] })
      .withResponse();
    expect(response.headers.get('x-switchyard-dropped')).toBeNull();
    expect(lastBody('claude')).toMatchObject({ thinking: { type: 'enabled', budget_tokens: 8192 }, max_tokens: 12288 });
    const message = data.choices[0]?.message as unknown as Record<string, string>;
    expect(words(message.reasoning_content)).toBe(5);
    expect(message.reasoning_signature).toMatch(/^[A-Za-z0-9+/=]{40,}$/);
    expect(words(message.content)).toBe(4);

    // The assistant turn sent back as received: Anthropic gets the signed thinking block first.
    await openai.chat.completions.create({
      model: 'claude',
      messages: [
        { role: 'user', content: 'Hi' },
        message as unknown as OpenAI.ChatCompletionAssistantMessageParam,
        { role: 'user', content: 'More' },
      ],
    });
    const turn = (lastBody('claude').messages as { content: unknown }[])[1];
    expect(turn?.content).toEqual([
      { type: 'thinking', thinking: message.reasoning_content, signature: message.reasoning_signature },
      { type: 'text', text: message.content },
    ]);
  });

  it('leaves unsigned reasoning out of an Anthropic turn (Anthropic would refuse it)', async () => {
    await openai.chat.completions.create({
      model: 'claude',
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello', reasoning_content: 'from vLLM' } as OpenAI.ChatCompletionMessageParam,
        { role: 'user', content: 'More' },
      ],
    });
    expect((lastBody('claude').messages as { content: unknown }[])[1]?.content).toBe('Hello');
  });

  it('is dropped with x-switchyard-dropped where Anthropic would refuse thinking, not refused', async () => {
    for (const extra of [{ temperature: 0.5 }, { max_tokens: 500 }]) {
      const { data, response } = await openai.chat.completions
        .create({ model: 'claude', reasoning_effort: 'high', messages: [{ role: 'user', content: 'Hi' }], ...extra })
        .withResponse();
      expect(response.headers.get('x-switchyard-dropped')).toBe('reasoning_effort');
      expect(lastBody('claude').thinking).toBeUndefined();
      expect(data.choices[0]?.message.content).toBeTruthy();
    }
  });

  it('streams reasoning_content from Anthropic thinking deltas', async () => {
    const stream = await openai.chat.completions.create({
      model: 'claude',
      reasoning_effort: 'low',
      max_completion_tokens: 3000,
      stream: true,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    let reasoning = '';
    let content = '';
    for await (const c of stream) {
      const d = c.choices[0]?.delta as { reasoning_content?: string; content?: string | null } | undefined;
      reasoning += d?.reasoning_content ?? '';
      content += d?.content ?? '';
    }
    expect(words(reasoning)).toBe(5);
    expect(words(content)).toBe(4);
    expect(lastBody('claude').thinking).toEqual({ type: 'enabled', budget_tokens: 2048 });
  });

  it('turns Ollama thinking on, and off for none', async () => {
    const r = await openai.chat.completions.create({
      model: 'ollama',
      reasoning_effort: 'high',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(lastBody('ollama').think).toBe(true);
    const message = r.choices[0]?.message as unknown as Record<string, string> | undefined;
    expect(words(message?.reasoning_content)).toBe(5);
    await openai.chat.completions.create({
      model: 'ollama',
      reasoning_effort: 'none',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(lastBody('ollama').think).toBe(false);
  });
});

describe('Responses clients: reasoning items', () => {
  it.each(['vllm', 'llama', 'claude', 'ollama'] as const)('answers %s with a reasoning item', async (m) => {
    const r = await openai.responses.create({ model: m, input: 'Why?', reasoning: { effort: 'low' } });
    expect(validate('Response', r)).toEqual([]);
    expect(r.output.map((o) => o.type)).toEqual(['reasoning', 'message']);
    const item = r.output[0];
    expect(item?.type === 'reasoning' && words(item.content?.[0]?.text)).toBe(5);
    expect(words(r.output_text)).toBe(4);
  });

  it('streams reasoning text events, valid against the published schema', async () => {
    for (const m of ['vllm', 'claude'] as const) {
      const stream = await openai.responses.create({
        model: m,
        input: 'Why?',
        reasoning: { effort: 'low' },
        max_output_tokens: 3000,
        stream: true,
      });
      const events: OpenAI.Responses.ResponseStreamEvent[] = [];
      for await (const e of stream) events.push(e);
      for (const e of events) expect(validate('ResponseStreamEvent', e), `${m} ${e.type}`).toEqual([]);
      const deltas = events.filter((e) => e.type === 'response.reasoning_text.delta');
      expect(deltas).toHaveLength(5);
      const done = events.at(-1);
      expect(done?.type).toBe('response.completed');
      if (done?.type === 'response.completed') expect(done.response.output[0]?.type).toBe('reasoning');
    }
  });

  it('hands out the Anthropic signature as encrypted_content and sends it back', async () => {
    const first = await openai.responses.create({ model: 'claude', input: 'Why?', reasoning: { effort: 'low' } });
    const item = first.output[0];
    if (item?.type !== 'reasoning') throw new Error('expected a reasoning item');
    expect(item.encrypted_content).toMatch(/^[A-Za-z0-9+/=]{40,}$/);
    await openai.responses.create({
      model: 'claude',
      input: [
        { role: 'user', content: 'Why?' },
        ...(first.output as OpenAI.Responses.ResponseInputItem[]),
        { role: 'user', content: 'And?' },
      ],
    });
    const turn = (lastBody('claude').messages as { content: unknown }[])[1];
    expect(turn?.content).toEqual([
      { type: 'thinking', thinking: item.content?.[0]?.text, signature: item.encrypted_content },
      { type: 'text', text: first.output_text },
    ]);
  });
});

describe('Ollama clients: think', () => {
  it('asks an OpenAI-protocol upstream to reason and answers with thinking', async () => {
    const r = await ollama.chat({ model: 'llama', think: true, messages: [{ role: 'user', content: 'Hi' }] });
    expect(words(r.message.thinking)).toBe(5);
    expect(words(r.message.content)).toBe(4);
    expect(lastBody('llama').reasoning_effort).toBe('medium');
  });

  it('turns a thinking template off with think: false', async () => {
    const r = await ollama.chat({ model: 'vllm', think: false, messages: [{ role: 'user', content: 'Hi' }] });
    expect(r.message.thinking).toBeUndefined();
    expect(lastBody('vllm')).toMatchObject({ chat_template_kwargs: { enable_thinking: false } });
    expect(lastBody('vllm').reasoning_effort).toBeUndefined();
  });

  it('streams thinking from Anthropic extended thinking', async () => {
    const stream = await ollama.chat({
      model: 'claude',
      think: 'low',
      stream: true,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    let thinking = '';
    for await (const part of stream) thinking += part.message.thinking ?? '';
    expect(words(thinking)).toBe(5);
    expect(lastBody('claude').thinking).toEqual({ type: 'enabled', budget_tokens: 2048 });
  });
});
