/**
 * RoutePolicy system prompts reach every upstream protocol from every surface: OpenAI chat and legacy completions,
 * Anthropic messages and Ollama chat and generate, into an OpenAI-protocol (vLLM), an Anthropic and an Ollama
 * upstream, in the modes prepend, append and replace; they count in the upstream's usage and in the token estimate
 * limits reserve.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../sim/index.js';
import { poolManifests, startTestProxy, type TestProxy } from '../support/proxy.js';
import { routePolicy } from './governance-fixtures.js';

const TEXT = 'POLICY-PROMPT-7a1c';
const CLIENT = 'CLIENT-SYSTEM-3b9e';
const USER = 'USER-MESSAGE-5d0f';
const LONG = `LONG-PROMPT ${'x'.repeat(2000)}`;

type Upstream = 'openai' | 'anthropic' | 'ollama';
let sims: Record<Upstream, Simulator>;
let proxy: TestProxy;

beforeAll(async () => {
  const [openai, anthropic, ollama] = await Promise.all([
    startSimulator({ flavour: 'vllm' }),
    startSimulator({ flavour: 'anthropic', models: ['claude-sim'] }),
    startSimulator({ flavour: 'ollama', models: ['qwen'] }),
  ]);
  sims = { openai: openai as Simulator, anthropic: anthropic as Simulator, ollama: ollama as Simulator };
  const mode = (m: string) => `
    - match: { model: { type: Prefix, value: sp- }, headers: [{ name: x-mode, value: ${m} }] }
      systemPrompt: { text: ${TEXT}, mode: ${m} }`;
  const manifests = [
    poolManifests({ name: 'p-openai', model: 'sp-openai', upstreamName: 'sim-model', urls: [`${sims.openai.url}/v1`] }),
    poolManifests({
      name: 'p-limited',
      model: 'sp-limited',
      upstreamName: 'sim-model',
      urls: [`${sims.openai.url}/v1`],
    }),
    poolManifests({ name: 'p-plain', model: 'plain', upstreamName: 'sim-model', urls: [`${sims.openai.url}/v1`] }),
    poolManifests({
      name: 'p-anthropic',
      model: 'sp-anthropic',
      upstreamName: 'claude-sim',
      provider: 'anthropic',
      urls: [sims.anthropic.url],
    }),
    poolManifests({
      name: 'p-ollama',
      model: 'sp-ollama',
      upstreamName: 'qwen',
      provider: 'ollama',
      urls: [sims.ollama.url],
    }),
    routePolicy(
      'prompts',
      `  rules:
    - match: { model: { type: Prefix, value: sp- } }
      systemPrompt: { text: ${TEXT}, mode: prepend }${mode('append')}${mode('replace')}
    - match: { model: { value: sp-limited } }
      systemPrompt: { text: "${LONG}" }
  rateLimits: [{ scope: global, model: sp-limited, limits: { tokensPerMinute: 300 } }]`,
    ),
  ].join('\n---\n');
  proxy = await startTestProxy(manifests);
});

afterAll(async () => {
  await proxy?.stop();
  await Promise.all(Object.values(sims ?? {}).map((s) => s.close()));
});

interface Op {
  path: string;
  body(model: string): Record<string, unknown>;
  /** The client sends a system prompt of its own. */
  ownSystem: boolean;
}

const OPS: Record<string, Op> = {
  'openai chat': {
    path: '/v1/chat/completions',
    ownSystem: true,
    body: (model) => ({
      model,
      max_tokens: 5,
      messages: [
        { role: 'system', content: CLIENT },
        { role: 'user', content: USER },
      ],
    }),
  },
  'openai completions': {
    path: '/v1/completions',
    ownSystem: false,
    body: (model) => ({ model, max_tokens: 5, prompt: USER }),
  },
  'anthropic messages': {
    path: '/v1/messages',
    ownSystem: true,
    body: (model) => ({ model, max_tokens: 5, system: CLIENT, messages: [{ role: 'user', content: USER }] }),
  },
  'ollama chat': {
    path: '/api/chat',
    ownSystem: true,
    body: (model) => ({
      model,
      stream: false,
      messages: [
        { role: 'system', content: CLIENT },
        { role: 'user', content: USER },
      ],
    }),
  },
  'ollama generate': {
    path: '/api/generate',
    ownSystem: true,
    body: (model) => ({ model, stream: false, system: CLIENT, prompt: USER }),
  },
};

async function send(op: Op, model: string, headers: Record<string, string> = {}) {
  return fetch(`${proxy.url}${op.path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...headers },
    body: JSON.stringify(op.body(model)),
  });
}

/** The text of what `sim` received last, as JSON. */
const received = (sim: Simulator) => JSON.stringify(sim.requests().at(-1)?.body ?? null);

describe('system prompts', () => {
  const pairs = Object.entries(OPS).flatMap(([name, op]) =>
    (['openai', 'anthropic', 'ollama'] as const).map((u) => [name, u, op] as const),
  );

  it.each(pairs)('%s → %s upstream: prepend, append and replace', async (_name, upstream, op) => {
    for (const mode of ['prepend', 'append', 'replace'] as const) {
      const res = await send(op, `sp-${upstream}`, mode === 'prepend' ? {} : { 'x-mode': mode });
      expect(res.status, `${mode}: ${await res.clone().text()}`).toBe(200);
      const got = received(sims[upstream]);
      const [text, client, user] = [got.indexOf(TEXT), got.indexOf(CLIENT), got.indexOf(USER)];
      expect(text, `${mode}: ${got}`).toBeGreaterThanOrEqual(0);
      // Anthropic's `system` is a field of its own (after `messages` in the JSON); elsewhere it precedes the user's.
      if (upstream !== 'anthropic') expect(text, got).toBeLessThan(user);
      else expect(user, got).toBeGreaterThanOrEqual(0);
      if (!op.ownSystem) continue;
      if (mode === 'replace') expect(client, got).toBe(-1);
      else if (mode === 'prepend') expect(text, got).toBeLessThan(client);
      else expect(client, got).toBeLessThan(text);
    }
  });

  it('counts in the upstream usage like the same system message sent by the client', async () => {
    const usage = async (model: string, messages: unknown[]) => {
      const res = await fetch(`${proxy.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, max_tokens: 3, messages }),
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { usage: { prompt_tokens: number } }).usage.prompt_tokens;
    };
    const user = { role: 'user', content: USER };
    const bare = await usage('plain', [user]);
    const byRoute = await usage('sp-openai', [user]);
    const byClient = await usage('plain', [{ role: 'system', content: TEXT }, user]);
    expect(byRoute).toBeGreaterThan(bare);
    expect(byRoute).toBe(byClient);
  });

  it('counts in the token estimate limits reserve', async () => {
    // 300 tokens per minute: a short question fits, the route's 2,000-character system prompt does not.
    const res = await send(OPS['openai chat'] as Op, 'sp-limited');
    expect(res.status).toBe(429);
    expect(await res.json()).toMatchObject({ error: { code: 'request_too_large_for_limit' } });
  });

  it('cannot be dodged with a token-id prompt', async () => {
    const res = await fetch(`${proxy.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'sp-openai', prompt: [1, 2, 3], max_tokens: 2 }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'system_prompt_needs_text' } });
  });
});
