import { describe, expect, it } from 'vitest';
import type { Operation } from './catalog.js';
import { CLIENT_OPERATIONS, withSystemPrompt } from './clients.js';
import type { ClientRequest, RequestBodies } from './requests.js';

const p = (mode: 'prepend' | 'append' | 'replace') => ({ text: 'RULE', mode });

/** A client request of `operation`, validated as the surface validates it. */
function request<O extends Operation>(operation: O, body: object): ClientRequest<O> {
  return { operation, body: CLIENT_OPERATIONS[operation].schema.parse({ model: 'm', ...body }) };
}

/** The body of `operation` with the system prompt applied. */
const applied = <O extends Operation>(operation: O, body: object, mode: Parameters<typeof p>[0]): RequestBodies[O] =>
  withSystemPrompt(request(operation, body), p(mode)).body;

describe('withSystemPrompt', () => {
  it('joins the first system or developer message, keeping text parts as parts', () => {
    const messages = [
      { role: 'developer', content: [{ type: 'text', text: 'OWN' }] },
      { role: 'system', content: 'SECOND' },
      { role: 'user', content: 'hi' },
    ];
    const client = request('chat', { messages });
    expect(withSystemPrompt(client, p('prepend')).body.messages).toEqual([
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
    expect(applied('chat', { messages }, 'replace').messages).toEqual([
      { role: 'system', content: 'RULE' },
      { role: 'user', content: 'hi' },
    ]);
    expect(client.body.messages).toEqual(messages); // the client's body is not changed
  });

  it('adds a system prompt where the client sent none', () => {
    expect(applied('ollama_chat', { messages: [{ role: 'user', content: 'hi' }] }, 'append').messages).toEqual([
      { role: 'system', content: 'RULE' },
      { role: 'user', content: 'hi' },
    ]);
    const hi = [{ role: 'user', content: 'hi' }];
    expect(applied('messages', { max_tokens: 5, messages: hi }, 'append').system).toBe('RULE');
    expect(applied('ollama_generate', { prompt: 'hi' }, 'prepend').system).toBe('RULE');
  });

  it('joins Anthropic system blocks and strings', () => {
    const blocks = [{ type: 'text', text: 'OWN', cache_control: { type: 'ephemeral' } }];
    const hi = [{ role: 'user', content: 'hi' }];
    expect(applied('count_tokens', { system: blocks, messages: hi }, 'append').system).toEqual([
      ...blocks,
      { type: 'text', text: 'RULE' },
    ]);
    expect(applied('messages', { system: 'OWN', max_tokens: 5, messages: hi }, 'append').system).toBe('OWN\n\nRULE');
  });

  it('puts the text before prompts that have no system part, raw Ollama prompts included', () => {
    expect(applied('completions', { prompt: ['a', 'b'] }, 'append').prompt).toEqual(['RULE\n\na', 'RULE\n\nb']);
    expect(applied('ollama_generate', { prompt: 'hi', raw: true }, 'append').prompt).toBe('RULE\n\nhi');
    expect(() => applied('completions', { prompt: [[1, 2]] }, 'prepend')).toThrow(/token ids/);
  });

  it('leaves embeddings alone', () => {
    const client = request('embeddings', { input: 'x' });
    expect(withSystemPrompt(client, p('prepend')).body).toBe(client.body);
  });
});
