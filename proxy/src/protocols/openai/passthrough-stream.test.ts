import { describe, expect, it } from 'vitest';
import { fakeBackend } from '../../scheduling/testing/members.js';
import type { AttemptContext } from '../types.js';
import { OpenAIPassthroughStream } from './passthrough-stream.js';

const ctx = (publicModel: string, upstreamModel: string): AttemptContext => ({
  stream: true,
  publicModel,
  upstreamModel,
  backend: fakeBackend(),
  clientWantsUsage: true,
  header: () => undefined,
});

const chunk = (model: string, content: string, finish: string | null = null) =>
  `data: {"choices":[{"delta":{"content":${JSON.stringify(content)}},"finish_reason":${JSON.stringify(finish)},"index":0}],"created":1,"id":"chatcmpl-1","model":${JSON.stringify(model)},"object":"chat.completion.chunk"}\n\n`;

const models = (sse: string) =>
  sse
    .split('\n\n')
    .filter((e) => e.startsWith('data: {'))
    .map((e) => (JSON.parse(e.slice(6)) as { model: string }).model);

describe('OpenAIPassthroughStream', () => {
  it('reports the public model name in every chunk whatever name the upstream echoes', () => {
    // llama.cpp answers with its GGUF file name whatever the request asked for.
    const s = new OpenAIPassthroughStream(ctx('chat', 'chat'));
    const out =
      s.push(Buffer.from(chunk('tiny-llama.gguf', 'Hel') + chunk('tiny-llama.gguf', 'lo'))) +
      s.push(Buffer.from(`${chunk('tiny-llama.gguf', '', 'length')}data: [DONE]\n\n`));
    expect(models(out)).toEqual(['chat', 'chat', 'chat']);
    expect(out).toContain('"content":"Hel"');
    expect(out.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('rewrites a name the upstream escapes differently by re-serialising the chunk', () => {
    const s = new OpenAIPassthroughStream(ctx('chat', 'org/m'));
    const escaped = chunk('org/m', 'x').replace('"org/m"', '"org\\/m"');
    expect(models(s.push(Buffer.from(escaped)))).toEqual(['chat']);
  });

  it('forwards chunks that already carry the public name byte for byte', () => {
    const s = new OpenAIPassthroughStream(ctx('chat', 'upstream'));
    const text = chunk('chat', 'same');
    expect(s.push(Buffer.from(text))).toBe(text);
  });
});
