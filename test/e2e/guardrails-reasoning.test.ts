/**
 * Response-side guardrails on the model's reasoning, end to end: simulated reasoning models (vLLM, Anthropic,
 * Ollama) answer the reasoning a `[sim reasoning-output=…]` directive asks for, and every surface gets it in its own
 * terms (OpenAI chat `reasoning` / `reasoning_content`, Anthropic thinking blocks, Ollama chat `thinking` and
 * generate `thinking` from an Ollama upstream, Responses
 * `reasoning` items; passed through or translated, every surface × upstream pair), streamed and not (a Responses
 * stream still numbered in order and valid against the API). The
 * local detector masks an email in the reasoning as it does in the answer (streamed through the window, all the
 * reasoning still before the answer) and denies a card number in it (a whole answer: 400; a stream: the surface's
 * error event, the number never sent). Request-side guardrails see the reasoning of earlier assistant turns a client
 * sends back (chat `reasoning_content`, Anthropic thinking blocks, Ollama `thinking`): masked before the upstream
 * gets it, or denied before any upstream attempt.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GuardrailService, startGuardrailService } from '../sim/guardrail.js';
import { type Simulator, startSimulator } from '../sim/index.js';
import { poolManifests } from '../support/manifests.js';
import { openAPIValidator } from '../support/openapi.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { backendAndPool, routePolicy } from './governance-fixtures.js';

let sim: Simulator;
let others: Simulator[] = [];
let proxy: TestProxy;
let svc: GuardrailService;

/** The upstreams the reasoning comes from: each behind a pool `thinker-<name>`. */
const UPSTREAMS = ['vllm', 'anthropic', 'ollama'] as const;
type Upstream = (typeof UPSTREAMS)[number];

const validate = openAPIValidator();
const EMAIL = 'jane.doe@example.com';
const CARD = '4111 1111 1111 1111';
const ANSWER = 'The office opens at nine';

beforeAll(async () => {
  [sim, svc] = await Promise.all([
    startSimulator({ flavour: 'vllm', itlMs: 1, reasoning: true }),
    startGuardrailService(),
  ]);
  others = await Promise.all(
    (['anthropic', 'ollama'] as const).map((flavour) => startSimulator({ flavour, itlMs: 1, reasoning: true })),
  );
  const manifests = [
    backendAndPool('thinker', 'thinker-vllm', [sim.url]),
    ...others.map(
      (o, i) =>
        `${poolManifests({
          name: `thinker-${UPSTREAMS[i + 1]}`,
          model: `thinker-${UPSTREAMS[i + 1]}`,
          upstreamName: 'sim-model',
          provider: UPSTREAMS[i + 1],
          urls: [o.url],
        })}---\n`,
    ),
    backendAndPool('asked', 'asked-model', [sim.url]),
    backendAndPool('ext', 'ext-model', [sim.url]),
    routePolicy(
      'thoughts',
      `  guardrails:
    - { name: pii, phases: [response], streamWindowChars: 32, local: { mask: [email], deny: [card] } }
    - { name: pii-in, phases: [request], local: { mask: [email], deny: [card] } }
    - { name: ext, phases: [response], streamWindowChars: 16, external: { url: "${svc.url}", timeout: 2s } }
  rules:
${UPSTREAMS.map((u) => `    - { match: { model: { value: thinker-${u} } }, guardrails: [pii] }`).join('\n')}
    - { match: { model: { value: asked-model } }, guardrails: [pii-in] }
    - { match: { model: { value: ext-model } }, guardrails: [ext] }`,
    ),
  ].join('');
  proxy = await startTestProxy(manifests);
});

afterAll(async () => {
  await proxy?.stop();
  await Promise.all([sim, ...others].map((s) => s?.close()));
  await svc?.close();
});

type J = Record<string, unknown>;
type Shape = 'openai' | 'anthropic' | 'ollama' | 'responses';
/** One piece of an answer, in the order the client got it: reasoning or answer text. */
type Piece = { kind: 'reasoning' | 'answer'; text: string };

interface Case {
  name: string;
  path: string;
  shape: Shape;
  body: (model: string, prompt: string) => J;
  /** The upstreams whose reasoning this surface carries (all when not given). */
  upstreams?: readonly Upstream[];
}

const first = (v: unknown) => (Array.isArray(v) ? (v[0] as J) : ({} as J));
const str = (v: unknown) => (typeof v === 'string' ? v : '');

const SURFACES: Case[] = [
  {
    name: 'OpenAI chat',
    path: '/v1/chat/completions',
    shape: 'openai',
    body: (model, p) => ({ model, reasoning_effort: 'low', messages: [{ role: 'user', content: p }] }),
  },
  {
    name: 'Anthropic messages (thinking)',
    path: '/v1/messages',
    shape: 'anthropic',
    body: (model, p) => ({
      model,
      max_tokens: 4000,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [{ role: 'user', content: p }],
    }),
  },
  {
    name: 'Ollama chat (thinking)',
    path: '/api/chat',
    shape: 'ollama',
    body: (model, p) => ({ model, think: true, stream: false, messages: [{ role: 'user', content: p }] }),
  },
  {
    // Ollama generate answers carry reasoning only from an Ollama upstream (passed through).
    name: 'Ollama generate (thinking)',
    path: '/api/generate',
    shape: 'ollama',
    body: (model, p) => ({ model, think: true, stream: false, prompt: p }),
    upstreams: ['ollama'],
  },
  {
    name: 'Responses (reasoning items)',
    path: '/v1/responses',
    shape: 'responses',
    body: (model, p) => ({ model, input: p, reasoning: { effort: 'low' } }),
  },
];

/** The reasoning and answer pieces of one whole answer or stream payload. */
function pieces(shape: Shape, d: J, streamed: boolean): Piece[] {
  const out: Piece[] = [];
  const add = (kind: Piece['kind'], text: unknown) => {
    if (typeof text === 'string' && text !== '') out.push({ kind, text });
  };
  if (shape === 'openai') {
    const m = (first(d.choices)[streamed ? 'delta' : 'message'] ?? {}) as J;
    add('reasoning', str(m.reasoning) || str(m.reasoning_content));
    add('answer', m.content);
  } else if (shape === 'anthropic') {
    const blocks = streamed ? [d.delta ?? {}] : Array.isArray(d.content) ? d.content : [];
    for (const b of blocks as J[]) {
      if (b.type === 'thinking' || b.type === 'thinking_delta') add('reasoning', b.thinking);
      if (b.type === 'text' || b.type === 'text_delta') add('answer', b.text);
    }
  } else if (shape === 'responses') {
    if (d.type === 'response.reasoning_text.delta') add('reasoning', d.delta);
    if (d.type === 'response.output_text.delta') add('answer', d.delta);
    for (const item of (Array.isArray(d.output) ? d.output : []) as J[])
      for (const part of (Array.isArray(item.content) ? item.content : []) as J[])
        add(part.type === 'reasoning_text' ? 'reasoning' : 'answer', part.text);
  } else {
    const m = (d.message ?? d) as J;
    add('reasoning', m.thinking);
    add('answer', m.content ?? m.response);
  }
  return out;
}

/** What a client got: its pieces in order, and the error (a whole answer's, or a stream's error event). */
async function send(c: Case & { model: string }, stream: boolean, reasoning: string) {
  const prompt = `[sim output=${ANSWER}; reasoning-output=${reasoning}] go`;
  const res = await fetch(`${proxy.url}${c.path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ ...c.body(c.model, prompt), stream }),
  });
  const raw = await res.text();
  const out: Piece[] = [];
  let error: string | undefined;
  const payloads = !stream
    ? [raw]
    : c.shape === 'ollama'
      ? raw.split('\n').filter((l) => l.trim() !== '')
      : raw
          .split('\n')
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).trim())
          .filter((p) => p !== '[DONE]');
  const events: J[] = [];
  for (const p of payloads) {
    const d = JSON.parse(p) as J;
    events.push(d);
    if (d.error) error = typeof d.error === 'string' ? d.error : String((d.error as J).message);
    else if (d.type === 'error') error = String(d.message);
    else out.push(...pieces(c.shape, d, stream));
  }
  if (stream && c.shape === 'responses') {
    for (const e of events) expect(validate('ResponseStreamEvent', e), String(e.type)).toEqual([]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
  }
  const text = (kind: Piece['kind']) =>
    out
      .filter((x) => x.kind === kind)
      .map((x) => x.text)
      .join('');
  return { status: res.status, raw, pieces: out, reasoning: text('reasoning'), answer: text('answer'), error };
}

const LONG = `The user wrote from ${EMAIL} and wants the opening hours of the office on weekdays and weekends`;

describe.each(
  SURFACES.flatMap((c) =>
    (c.upstreams ?? UPSTREAMS).flatMap((u) => [
      { ...c, name: `${c.name} ← ${u}`, model: `thinker-${u}`, stream: false },
      { ...c, name: `${c.name} ← ${u}, streamed`, model: `thinker-${u}`, stream: true },
    ]),
  ),
)('response-side guardrails on reasoning: $name', (c) => {
  it('masks what the local detector finds in the reasoning, and keeps the reasoning before the answer', async () => {
    const r = await send(c, c.stream, LONG);
    expect(r.status).toBe(200);
    expect(r.error).toBeUndefined();
    expect(r.raw).not.toContain(EMAIL);
    expect(r.reasoning).toBe(LONG.replace(EMAIL, '[EMAIL]'));
    expect(r.answer).toBe(ANSWER);
    const lastReasoning = r.pieces.map((p) => p.kind).lastIndexOf('reasoning');
    const firstAnswer = r.pieces.findIndex((p) => p.kind === 'answer');
    expect(lastReasoning).toBeLessThan(firstAnswer);
    if (c.stream) expect(r.pieces.filter((p) => p.kind === 'reasoning').length).toBeGreaterThan(2);
  });

  it('denies an answer whose reasoning holds a card number, in the surface shape', async () => {
    const r = await send(c, c.stream, `Let me see, the card is ${CARD} as the user said in the first message`);
    expect(r.raw).not.toContain('1111 1111');
    expect(r.raw).not.toMatch(/4111 1/);
    expect(r.status).toBe(c.stream ? 200 : 400);
    if (c.stream) expect(r.error).toContain('withheld by guardrail pii (card)');
    else expect(r.raw).toContain('withheld by guardrail pii (card)');
    expect(r.answer).toBe('');
  });
});

describe('an external guardrail on streamed reasoning', () => {
  const chat = SURFACES[0] as Case;
  it.each([false, true])('masks and denies what the service finds in the reasoning (streamed: %s)', async (stream) => {
    svc.reset();
    const c = { ...chat, model: 'ext-model' };
    const masked = await send(c, stream, 'the classified plan is ready for review by the whole team today');
    expect(masked.status).toBe(200);
    expect(masked.reasoning).toBe('the [REDACTED] plan is ready for review by the whole team today');
    expect(masked.raw).not.toContain('classified');
    const denied = await send(c, stream, 'this reasoning holds a forbidden word somewhere in the middle of it');
    expect(denied.raw).not.toContain('forbidden word');
    if (stream) expect(denied.error).toContain('guardrail ext (blocked_word)');
    else expect(denied.status).toBe(400);
    expect(svc.requests().every((q) => q.phase === 'response')).toBe(true);
  });
});

describe("request-side guardrails on earlier turns' reasoning", () => {
  const post = (path: string, body: J) =>
    fetch(`${proxy.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify(body),
    });
  const lastUpstreamBody = () => JSON.stringify(sim.requests().at(-1)?.body);

  const THOUGHT = `The sender is ${EMAIL}, so Jane.`;
  it.each([
    {
      name: 'an OpenAI chat turn reasoning_content',
      path: '/v1/chat/completions',
      turn: { reasoning_content: THOUGHT },
    },
    { name: 'an Ollama turn thinking', path: '/api/chat', turn: { thinking: THOUGHT } },
  ])('masks $name before the upstream gets it', async ({ path, turn }) => {
    const res = await post(path, {
      model: 'asked-model',
      stream: false,
      messages: [
        { role: 'user', content: 'Who wrote?' },
        { role: 'assistant', content: 'Jane did.', ...turn },
        { role: 'user', content: 'Thanks' },
      ],
    });
    expect(res.status).toBe(200);
    await res.text();
    expect(lastUpstreamBody()).not.toContain(EMAIL);
    expect(lastUpstreamBody()).toContain('The sender is [EMAIL], so Jane.');
  });

  it('denies an Anthropic thinking block holding a card number before any upstream attempt', async () => {
    const before = sim.requests().length;
    const res = await post('/v1/messages', {
      model: 'asked-model',
      max_tokens: 100,
      messages: [
        { role: 'user', content: 'Pay it' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: `I will use the card ${CARD}.`, signature: 'c2lnbmF0dXJl' },
            { type: 'text', text: 'Done.' },
          ],
        },
        { role: 'user', content: 'Thanks' },
      ],
    });
    const body = (await res.json()) as J;
    expect(res.status).toBe(400);
    expect(body.type).toBe('error');
    expect(String((body.error as J).message)).toContain('guardrail pii-in (card)');
    expect(sim.requests().length).toBe(before);
  });
});
