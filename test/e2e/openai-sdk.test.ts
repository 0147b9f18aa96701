/**
 * The OpenAI surface end to end: the official `openai` SDK against the real proxy in front of simulated vLLM
 * replicas, with responses validated against OpenAI's published OpenAPI schemas.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../sim/index.js';
import { openAPIValidator } from '../support/openapi.js';
import { poolManifests, startTestProxy, type TestProxy } from '../support/proxy.js';

let sims: Simulator[];
let proxy: TestProxy;
let client: OpenAI;
const validate = openAPIValidator();

beforeAll(async () => {
  sims = await Promise.all(
    [0, 1].map(() => startSimulator({ flavour: 'vllm', models: ['org/Chat-8B', 'org/Embed'], ttftMs: 5, itlMs: 2 })),
  );
  proxy = await startTestProxy(
    `${poolManifests({ model: 'chat', upstreamName: 'org/Chat-8B', urls: sims.map((s) => `${s.url}/v1`) })}---
apiVersion: switchyard.dev/v1alpha1
kind: LLMBackend
metadata: { name: embed }
spec: { provider: vllm, endpoints: [{ url: "${sims[0]?.url}/v1" }], models: [{ name: embed, upstreamName: org/Embed }] }
---
apiVersion: switchyard.dev/v1alpha1
kind: LLMPool
metadata: { name: embed }
spec: { model: embed, backendRefs: [{ name: embed }] }
`,
  );
  client = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await proxy?.stop();
  await Promise.all(sims.map((s) => s.close()));
});

describe('OpenAI SDK through the proxy', () => {
  it('completes a chat, reporting the public model name and upstream usage', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'chat', messages: [{ role: 'user', content: 'Hello there' }], max_tokens: 5 })
      .withResponse();
    expect(validate('CreateChatCompletionResponse', data)).toEqual([]);
    expect(data.model).toBe('chat');
    expect(data.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(data.usage?.completion_tokens).toBe(5);
    expect(data.choices[0]?.finish_reason).toBe('length');
    expect(response.headers.get('x-switchyard-endpoint')).toMatch(/^backend\/[01]$/);
    expect(response.headers.get('x-switchyard-attempts')).toBe('1');
    const seen = sims
      .flatMap((s) => s.requests())
      .filter((r) => r.path === '/v1/chat/completions')
      .sort((a, b) => a.time - b.time)
      .at(-1)?.body as { model: string };
    expect(seen.model).toBe('org/Chat-8B');
  });

  it('streams a chat chunk by chunk without the usage chunk it did not ask for', async () => {
    const stream = await client.chat.completions.create({
      model: 'chat',
      messages: [{ role: 'user', content: 'Stream please' }],
      max_tokens: 6,
      stream: true,
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    for (const c of chunks) expect(validate('CreateChatCompletionStreamResponse', c)).toEqual([]);
    expect(chunks.every((c) => c.choices.length > 0)).toBe(true);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('length');
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('').length).toBeGreaterThan(0);
    expect(chunks.every((c) => c.model === 'chat')).toBe(true);
  });

  it('forwards the usage chunk when the client asks for it', async () => {
    const stream = await client.chat.completions.create({
      model: 'chat',
      messages: [{ role: 'user', content: 'Count' }],
      max_tokens: 4,
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    expect(usage?.completion_tokens).toBe(4);
    expect(usage?.prompt_tokens).toBeGreaterThan(0);
  });

  it('serves legacy completions and embeddings (base64 by default in the SDK)', async () => {
    const completion = await client.completions.create({ model: 'chat', prompt: 'Once upon a time', max_tokens: 3 });
    expect(validate('CreateCompletionResponse', completion)).toEqual([]);
    expect(completion.usage?.completion_tokens).toBe(3);
    const emb = await client.embeddings.create({ model: 'embed', input: ['a', 'b'] });
    expect(validate('CreateEmbeddingResponse', emb)).toEqual([]);
    expect(emb.data).toHaveLength(2);
    expect(emb.data[0]?.embedding.length).toBeGreaterThan(0);
    expect(emb.model).toBe('embed');
  });

  it('lists and retrieves models', async () => {
    const models = [];
    for await (const m of client.models.list()) models.push(m.id);
    expect(models.sort()).toEqual(['chat', 'embed']);
    expect((await client.models.retrieve('chat')).id).toBe('chat');
  });

  it('surfaces errors as the SDK typed errors', async () => {
    await expect(
      client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(
      client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'x' }], temperature: 9 }),
    ).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });

  it('passes an upstream 400 through without retrying it', async () => {
    for (const s of sims) s.resetStats();
    const err = await client.chat.completions
      .create({ model: 'chat', messages: [{ role: 'user', content: 'x [sim status=400; message=bad thing]' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).message).toContain('bad thing');
    expect(sims.reduce((n, s) => n + s.stats().requests, 0)).toBe(1);
  });
});
