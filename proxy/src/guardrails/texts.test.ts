import { describe, expect, it } from 'vitest';
import type { ClientRequest } from '../protocols/requests.js';
import { requestTexts, withRequestTexts } from './request-texts.js';
import { answerSlots, eventSlots, isPureTextEvent } from './response-texts.js';

type J = Record<string, unknown>;
const texts = (slots: { get(): string }[]) => slots.map((s) => s.get());
const keys = (slots: { key: string }[]) => slots.map((s) => s.key);

describe('answer texts: reasoning is checked like the answer', () => {
  it('reads and rewrites chat reasoning under either field, before the answer it comes after', () => {
    const body: J = {
      choices: [{ index: 0, message: { content: 'answer', reasoning: 'vllm thought', reasoning_content: 'thought' } }],
    };
    const slots = answerSlots('chat', body);
    expect(keys(slots)).toEqual(['c0/reasoning_content', 'c0/reasoning', 'c0']);
    expect(texts(slots)).toEqual(['thought', 'vllm thought', 'answer']);
    expect(slots[2]?.after).toEqual(['c0/reasoning_content', 'c0/reasoning']);
    for (const s of slots) s.set(s.get().toUpperCase());
    expect(body.choices).toEqual([
      { index: 0, message: { content: 'ANSWER', reasoning: 'VLLM THOUGHT', reasoning_content: 'THOUGHT' } },
    ]);
  });

  it('reads Anthropic thinking blocks and deltas, leaving signatures and redacted thinking alone', () => {
    const body: J = {
      content: [
        { type: 'thinking', thinking: 'hmm', signature: 'sig' },
        { type: 'redacted_thinking', data: 'opaque' },
        { type: 'text', text: 'hello' },
      ],
    };
    expect(texts(answerSlots('messages', body))).toEqual(['hmm', 'hello']);
    const delta = { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'step' } };
    expect(texts(eventSlots('messages', delta))).toEqual(['step']);
    const signature = { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 's' } };
    expect(eventSlots('messages', signature)).toEqual([]);
    const start = { type: 'content_block_start', index: 1, content_block: { type: 'thinking', thinking: 'early' } };
    expect(keys(eventSlots('messages', start))).toEqual(['b1']);
    expect(texts(eventSlots('messages', start))).toEqual(['early']);
    expect(isPureTextEvent('messages', start)).toBe(false);
  });

  it('reads Ollama thinking in chat and generate, answers and stream lines', () => {
    expect(texts(answerSlots('ollama_chat', { message: { thinking: 't', content: 'c' } }))).toEqual(['t', 'c']);
    expect(texts(answerSlots('ollama_generate', { thinking: 't', response: 'r' }))).toEqual(['t', 'r']);
    expect(keys(eventSlots('ollama_chat', { message: { thinking: 't' }, done: false }))).toEqual(['o/thinking']);
  });

  it('reads Responses reasoning items, their deltas and closing events', () => {
    const reasoning = {
      type: 'reasoning',
      id: 'rs_1',
      summary: [{ type: 'summary_text', text: 'sum' }],
      content: [{ type: 'reasoning_text', text: 'why' }],
      encrypted_content: 'sig',
    };
    const message = { type: 'message', id: 'msg_1', content: [{ type: 'output_text', text: 'out' }] };
    expect(texts(answerSlots('responses', { output: [reasoning, message] }))).toEqual(['why', 'sum', 'out']);
    const delta = { type: 'response.reasoning_text.delta', item_id: 'rs_1', delta: 'w' };
    expect(texts(eventSlots('responses', delta))).toEqual(['w']);
    expect(isPureTextEvent('responses', delta)).toBe(true);
    const summary = { type: 'response.reasoning_summary_text.delta', item_id: 'rs_1', summary_index: 0, delta: 's' };
    expect(texts(eventSlots('responses', summary))).toEqual(['s']);
    expect(isPureTextEvent('responses', summary)).toBe(true);
    const done = { type: 'response.reasoning_text.done', item_id: 'rs_1', text: 'why' };
    expect(texts(eventSlots('responses', done))).toEqual(['why']);
    expect(isPureTextEvent('responses', done)).toBe(false);
    expect(texts(eventSlots('responses', { type: 'response.output_item.done', item: reasoning }))).toEqual([
      'why',
      'sum',
    ]);
  });
});

describe('request texts: earlier turns reasoning is checked', () => {
  const texts = (operation: string, body: J) => requestTexts({ operation, body } as unknown as ClientRequest);

  it('reads chat and Ollama assistant reasoning, and writes it back masked', () => {
    const chat: J = {
      messages: [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: 'a', reasoning_content: 'r1', reasoning: 'r2' },
      ],
    };
    expect(texts('chat', chat)).toEqual(['q', 'r1', 'r2', 'a']);
    const request = { operation: 'chat', body: chat } as unknown as ClientRequest;
    const masked = withRequestTexts(request, ['q', 'R1', 'R2', 'a']).body as J;
    expect((masked.messages as J[])[1]).toMatchObject({ reasoning_content: 'R1', reasoning: 'R2' });
    expect(texts('ollama_chat', { messages: [{ role: 'assistant', content: 'a', thinking: 't' }] })).toEqual([
      't',
      'a',
    ]);
  });

  it('reads Anthropic thinking blocks but not signatures or redacted thinking', () => {
    const body: J = {
      messages: [
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'hmm', signature: 'sig' },
            { type: 'redacted_thinking', data: 'opaque' },
            { type: 'text', text: 'hello' },
          ],
        },
      ],
    };
    expect(texts('messages', body)).toEqual(['hmm', 'hello']);
  });

  it('reads Responses reasoning items (content and summary), not their encrypted content', () => {
    const body: J = {
      input: [
        {
          type: 'reasoning',
          summary: [{ type: 'summary_text', text: 'sum' }],
          content: [{ type: 'reasoning_text', text: 'why' }],
          encrypted_content: 'sig',
        },
        { role: 'user', content: 'next' },
      ],
    };
    expect(texts('responses', body)).toEqual(['why', 'sum', 'next']);
  });
});
