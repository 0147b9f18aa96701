import { describe, expect, it } from 'vitest';
import { withSystemPrompt } from './system-prompt.js';

const p = (mode: 'prepend' | 'append' | 'replace') => ({ text: 'RULE', mode });

describe('withSystemPrompt', () => {
  it('joins the first system or developer message, keeping text parts as parts', () => {
    const body = {
      messages: [
        { role: 'developer', content: [{ type: 'text', text: 'OWN' }] },
        { role: 'system', content: 'SECOND' },
        { role: 'user', content: 'hi' },
      ],
    };
    expect(withSystemPrompt('chat', body, p('prepend')).messages).toEqual([
      {
        role: 'developer',
        content: [
          { type: 'text', text: 'RULE' },
          { type: 'text', text: 'OWN' },
        ],
      },
      { role: 'system', content: 'SECOND' },
      { role: 'user', content: 'hi' },
    ]);
    expect(withSystemPrompt('chat', body, p('replace')).messages).toEqual([
      { role: 'system', content: 'RULE' },
      { role: 'user', content: 'hi' },
    ]);
    expect(body.messages).toHaveLength(3); // the client's body is not changed
  });

  it('adds a system prompt where the client sent none', () => {
    expect(
      withSystemPrompt('ollama_chat', { messages: [{ role: 'user', content: 'hi' }] }, p('append')).messages,
    ).toEqual([
      { role: 'system', content: 'RULE' },
      { role: 'user', content: 'hi' },
    ]);
    expect(withSystemPrompt('messages', { messages: [] }, p('append')).system).toBe('RULE');
    expect(withSystemPrompt('ollama_generate', { prompt: 'hi' }, p('prepend')).system).toBe('RULE');
  });

  it('joins Anthropic system blocks and strings', () => {
    const blocks = [{ type: 'text', text: 'OWN', cache_control: { type: 'ephemeral' } }];
    expect(withSystemPrompt('count_tokens', { system: blocks }, p('append')).system).toEqual([
      ...blocks,
      { type: 'text', text: 'RULE' },
    ]);
    expect(withSystemPrompt('messages', { system: 'OWN' }, p('append')).system).toBe('OWN\n\nRULE');
  });

  it('puts the text before prompts that have no system part, raw Ollama prompts included', () => {
    expect(withSystemPrompt('completions', { prompt: ['a', 'b'] }, p('append')).prompt).toEqual([
      'RULE\n\na',
      'RULE\n\nb',
    ]);
    expect(withSystemPrompt('ollama_generate', { prompt: 'hi', raw: true }, p('append')).prompt).toBe('RULE\n\nhi');
    expect(() => withSystemPrompt('completions', { prompt: [[1, 2]] }, p('prepend'))).toThrow(/token ids/);
  });

  it('leaves embeddings alone', () => {
    const body = { input: 'x' };
    expect(withSystemPrompt('embeddings', body, p('prepend'))).toBe(body);
  });
});
