import { connect } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLASS_NAMES, type HostileUpstream, hostileMarker, startHostileUpstream } from './hostile/index.js';

/** Sends `body` to `path` over a raw socket and returns every byte the server wrote until it closed. */
function rawExchange(url: string, path: string, body: unknown, maxMs = 10_000): Promise<Buffer> {
  const { port } = new URL(url);
  const text = JSON.stringify(body);
  return new Promise((resolve) => {
    const s = connect(Number(port), '127.0.0.1');
    const chunks: Buffer[] = [];
    const done = () => {
      clearTimeout(t);
      resolve(Buffer.concat(chunks));
    };
    const t = setTimeout(() => {
      s.destroy();
      done();
    }, maxMs);
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('error', () => {});
    s.on('close', done);
    s.write(
      `POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nauthorization: Bearer sk-hostile-SECRET-123456\r\n` +
        `content-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
    );
  });
}

/** The body of a chunked HTTP answer. */
function dechunk(answer: Buffer): string {
  let rest = answer.subarray(answer.indexOf('\r\n\r\n') + 4);
  const out: Buffer[] = [];
  for (;;) {
    const eol = rest.indexOf('\r\n');
    const size = Number.parseInt(rest.subarray(0, eol).toString(), 16);
    if (!(size > 0)) return Buffer.concat(out).toString();
    out.push(rest.subarray(eol + 2, eol + 2 + size));
    rest = rest.subarray(eol + 4 + size);
  }
}

describe('hostile upstream', () => {
  let h: HostileUpstream;
  beforeAll(async () => {
    h = await startHostileUpstream({ endlessCapBytes: 1024 * 1024, maxHangMs: 2000 });
  });
  afterAll(async () => {
    expect(h.internalErrors()).toEqual([]);
    await h.close();
  });
  const url = () => h.urls[0] as string;

  it('answers the valid class so the official OpenAI SDK reads it, streamed or not, with tool calls', async () => {
    const client = new OpenAI({ baseURL: `${url()}/v1`, apiKey: 'k', maxRetries: 0 });
    const content = `hi ${hostileMarker('valid', 7)}`;
    const r = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content }] });
    expect(r.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(r.usage?.prompt_tokens).toBe(11);
    const stream = await client.chat.completions.create({
      model: 'm',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content }],
    });
    let text = '';
    let usage: unknown;
    for await (const c of stream) {
      text += c.choices[0]?.delta.content ?? '';
      usage ??= c.usage ?? undefined;
    }
    expect(text).toBe(r.choices[0]?.message.content);
    expect(usage).toMatchObject({ prompt_tokens: 11 });
    const tools = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: hostileMarker('valid-tools', 1) }],
    });
    const call = tools.choices[0]?.message.tool_calls?.[0];
    expect(call?.type === 'function' ? JSON.parse(call.function.arguments) : undefined).toEqual({
      city: 'Paris',
      n: 3,
    });
    const emb = await client.embeddings.create({ model: 'e', input: ['a', 'b'] });
    expect(emb.data).toHaveLength(2);
    const rerank = await client.post<{ results: { index: number; relevance_score: number }[] }>('/rerank', {
      body: { model: 'r', query: content, documents: ['a', { text: 'b' }, 'c'] },
    });
    expect(rerank.results.map((r) => r.index)).toEqual([0, 1, 2]);
    const cmpl = await client.completions.create({ model: 'm', prompt: content, stream: true });
    let ctext = '';
    for await (const c of cmpl) ctext += c.choices[0]?.text ?? '';
    expect(ctext.length).toBeGreaterThan(0);
  });

  it('answers the valid class so @anthropic-ai/sdk reads it: messages, streams, tool use and count_tokens', async () => {
    const client = new Anthropic({ baseURL: url(), apiKey: 'k', maxRetries: 0 });
    const content = `hi ${hostileMarker('valid', 8)}`;
    const msg = await client.messages.create({ model: 'c', max_tokens: 10, messages: [{ role: 'user', content }] });
    expect(msg.stop_reason).toBe('end_turn');
    const final = await client.messages
      .stream({ model: 'c', max_tokens: 10, messages: [{ role: 'user', content }] })
      .finalMessage();
    expect(final.content).toEqual(msg.content);
    const tool = await client.messages
      .stream({ model: 'c', max_tokens: 10, messages: [{ role: 'user', content: hostileMarker('valid-tools', 2) }] })
      .finalMessage();
    expect(tool.content[0]).toMatchObject({ type: 'tool_use', input: { city: 'Paris', n: 3 } });
    const count = await client.messages.countTokens({ model: 'c', messages: [{ role: 'user', content }] });
    expect(count.input_tokens).toBe(11);
  });

  it('answers the valid class so the ollama client reads it: chat, generate and embed', async () => {
    const ollama = new Ollama({ host: url() });
    const content = `hi ${hostileMarker('valid', 9)}`;
    const parts = [];
    for await (const p of await ollama.chat({ model: 'q', messages: [{ role: 'user', content }], stream: true }))
      parts.push(p);
    expect(parts.at(-1)).toMatchObject({ done: true, done_reason: 'stop', prompt_eval_count: 11 });
    const whole = await ollama.generate({ model: 'q', prompt: content });
    expect(whole.response).toBe(parts.map((p) => p.message.content).join(''));
    expect((await ollama.embed({ model: 'q', input: ['a', 'b', 'c'] })).embeddings).toHaveLength(3);
  });

  it('records what it did per case and echoes the credential it received when asked to', async () => {
    const out = await rawExchange(url(), '/v1/chat/completions', {
      model: 'm',
      messages: [{ role: 'user', content: hostileMarker('credential-echo', 3, 'case-1') }],
    });
    expect(out.toString()).toContain('sk-hostile-SECRET-123456');
    const [rec] = h.take('case-1');
    expect(rec).toMatchObject({ cls: 'credential-echo', protocol: 'openai', operation: 'chat', expect: 'reject' });
    expect(h.take('case-1')).toEqual([]);
  });

  it('breaks answers as each class says: error first, truncated stream, endless line, one-byte drip', async () => {
    const chat = (cls: string, seed: number) => ({
      model: 'm',
      stream: true,
      messages: [{ role: 'user', content: hostileMarker(cls, seed) }],
    });
    const errorFirst = (await rawExchange(url(), '/v1/chat/completions', chat('error-first', 1))).toString();
    expect(errorFirst).toMatch(/^HTTP\/1\.1 200/);
    expect(errorFirst.split('\r\n\r\n').slice(1).join('')).toMatch(/^[0-9a-f]+\r\ndata: \{"error"/);
    const drip = await rawExchange(url(), '/api/chat', { ...chat('drip', 2), stream: undefined });
    expect(drip.toString()).toContain('\r\n1\r\n{\r\n1\r\n"\r\n');
    expect(dechunk(drip)).toMatch(/"done":true.*\n$/);
    const endless = await rawExchange(url(), '/v1/messages', chat('endless-line', 3));
    expect(endless.length).toBeGreaterThan(1024 * 1024);
    expect(endless.subarray(200).includes('\n')).toBe(false);
    const ends = new Set<string>();
    for (let seed = 0; seed < 20; seed++) {
      const t = (await rawExchange(url(), '/v1/chat/completions', chat('truncated', seed))).toString();
      ends.add(t.includes('[DONE]') ? 'done' : 'cut');
    }
    expect([...ends]).toEqual(['cut']);
  });

  it('builds every class for every protocol operation, streamed or not, without failing itself', async () => {
    const calls: [string, Record<string, unknown>][] = [
      ['/v1/chat/completions', { stream: true }],
      ['/v1/chat/completions', { stream: false, tools: [{}] }],
      ['/v1/completions', { stream: true, prompt: 'x' }],
      ['/v1/embeddings', { input: ['a'] }],
      ['/v1/rerank', { query: 'q', documents: ['a', 'b'] }],
      ['/v1/messages', { stream: true }],
      ['/v1/messages', {}],
      ['/v1/messages/count_tokens', {}],
      ['/api/chat', {}],
      ['/api/generate', { stream: false }],
      ['/api/embed', { input: 'a' }],
    ];
    const slow = new Set(['no-answer', 'stall', 'endless-line', 'cut-body', 'giant-line', 'header-huge']);
    for (const cls of CLASS_NAMES.filter((c) => !slow.has(c)))
      await Promise.all(
        calls.map(async ([path, extra], i) => {
          const out = await rawExchange(url(), path, {
            model: 'm',
            ...extra,
            messages: [{ role: 'user', content: hostileMarker(cls, 5, `${cls}.${i}`) }],
          });
          expect(out.length, `${cls} ${path}`).toBeGreaterThan(0);
          expect(h.take(`${cls}.${i}`), `${cls} ${path}`).toMatchObject([{ cls, path }]);
        }),
      );
    expect(h.counts().marked).toBeGreaterThan(250);
  }, 60_000);
});
