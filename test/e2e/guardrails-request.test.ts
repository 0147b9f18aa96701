/**
 * Request-side guardrails end to end, on every surface, streamed and not: the local detector masks (the upstream
 * gets the placeholders) or denies (a 400 `guardrail_denied` in the surface's shape, no upstream attempt); an
 * external guardrail service (the test/sim stand-in) masks, denies, and, when it hangs, fails closed (503) or open
 * (served); protection follows the pool (an alias reaches the same guardrails) and tenants name their own. The
 * access log names each guardrail's phase, action and failure, never the text.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GuardrailService, startGuardrailService } from '../sim/guardrail.js';
import { type Simulator, startSimulator } from '../sim/index.js';
import { lineSink } from '../support/log.js';
import { scrape } from '../support/metrics-scrape.js';
import { sampleSum } from '../support/prom-text.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { backendAndPool, KEYS, KEYS_SECRET, routePolicy } from './governance-fixtures.js';

let sim: Simulator;
let svc: GuardrailService;
let proxy: TestProxy;
const logLines: string[] = [];

const EMAIL = 'jane.doe@example.com';
const CARD = '4111 1111 1111 1111';

beforeAll(async () => {
  [sim, svc] = await Promise.all([startSimulator({ flavour: 'vllm', outputTokens: 4 }), startGuardrailService()]);
  const manifests = [
    KEYS_SECRET,
    backendAndPool('masked', 'masked-model', [sim.url], '  aliases: [masked-alias]'),
    backendAndPool('ext', 'ext-model', [sim.url]),
    backendAndPool('extopen', 'extopen-model', [sim.url]),
    backendAndPool('tenant', 'tenant-model', [sim.url]),
    routePolicy(
      'guards',
      `  guardrails:
    - name: pii
      local: { mask: [email, phone], deny: [card, secret] }
    - name: ext
      external: { url: "${svc.url}", timeout: 300ms }
    - name: extopen
      external: { url: "${svc.url}", timeout: 300ms, failureMode: open }
  rules:
    - { match: { model: { value: masked-model } }, guardrails: [pii] }
    - { match: { model: { value: ext-model } }, guardrails: [ext] }
    - { match: { model: { value: extopen-model } }, guardrails: [extopen] }
    - { match: { model: { value: tenant-model } } }
  auth: { required: false }
  tenants:
    - { name: team-a, apiKeys: [{ name: api-keys, key: team-a }], guardrails: [pii] }`,
    ),
  ].join('');
  proxy = await startTestProxy(manifests, { log: pino({ level: 'info' }, lineSink(logLines)) });
});

afterAll(async () => {
  await proxy?.stop();
  await Promise.all([sim?.close(), svc?.close()]);
});

type Shape = 'openai' | 'anthropic' | 'ollama';
interface SurfaceCase {
  name: string;
  path: string;
  shape: Shape;
  body: (model: string, text: string) => Record<string, unknown>;
}

const SURFACES: SurfaceCase[] = [
  {
    name: 'OpenAI chat',
    path: '/v1/chat/completions',
    shape: 'openai',
    body: (model, text) => ({ model, messages: [{ role: 'user', content: text }], max_tokens: 4 }),
  },
  {
    name: 'OpenAI chat, streamed',
    path: '/v1/chat/completions',
    shape: 'openai',
    body: (model, text) => ({
      model,
      stream: true,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text }] },
      ],
    }),
  },
  {
    name: 'OpenAI completions',
    path: '/v1/completions',
    shape: 'openai',
    body: (model, text) => ({ model, prompt: text, max_tokens: 4 }),
  },
  {
    name: 'OpenAI completions, streamed',
    path: '/v1/completions',
    shape: 'openai',
    body: (model, text) => ({ model, prompt: [text], stream: true }),
  },
  {
    name: 'OpenAI embeddings',
    path: '/v1/embeddings',
    shape: 'openai',
    body: (model, text) => ({ model, input: text }),
  },
  {
    name: 'Anthropic messages',
    path: '/v1/messages',
    shape: 'anthropic',
    body: (model, text) => ({
      model,
      max_tokens: 4,
      messages: [{ role: 'user', content: [{ type: 'text', text }] }],
    }),
  },
  {
    name: 'Anthropic messages, streamed',
    path: '/v1/messages',
    shape: 'anthropic',
    body: (model, text) => ({
      model,
      max_tokens: 4,
      stream: true,
      system: text,
      messages: [{ role: 'user', content: 'hi' }],
    }),
  },
  {
    name: 'Ollama chat',
    path: '/api/chat',
    shape: 'ollama',
    body: (model, text) => ({ model, stream: false, messages: [{ role: 'user', content: text }] }),
  },
  {
    name: 'Ollama chat, streamed',
    path: '/api/chat',
    shape: 'ollama',
    body: (model, text) => ({ model, messages: [{ role: 'user', content: text }] }),
  },
  {
    name: 'Ollama generate',
    path: '/api/generate',
    shape: 'ollama',
    body: (model, text) => ({ model, prompt: text, stream: false }),
  },
  {
    name: 'Ollama generate, streamed',
    path: '/api/generate',
    shape: 'ollama',
    body: (model, text) => ({ model, prompt: 'hello', system: text }),
  },
  { name: 'Ollama embed', path: '/api/embed', shape: 'ollama', body: (model, text) => ({ model, input: [text] }) },
];

async function send(c: SurfaceCase, model: string, text: string, key?: string) {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' };
  if (key) headers.authorization = `Bearer ${key}`;
  const res = await fetch(`${proxy.url}${c.path}`, {
    method: 'POST',
    headers,
    body: JSON.stringify(c.body(model, text)),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** The error message and code of an error answer in the surface's own shape (fails on any other shape). */
function errorOf(shape: Shape, text: string): { message: string; code?: unknown; type?: unknown } {
  const body = JSON.parse(text) as Record<string, unknown>;
  if (shape === 'openai') {
    const e = body.error as Record<string, unknown>;
    expect(e).toMatchObject({ param: null });
    return { message: String(e.message), code: e.code, type: e.type };
  }
  if (shape === 'anthropic') {
    expect(body.type).toBe('error');
    const e = body.error as Record<string, unknown>;
    return { message: String(e.message), code: e.type };
  }
  expect(typeof body.error).toBe('string');
  return { message: String(body.error) };
}

/** Requests the upstream got from clients (not the proxy's health checks). */
const upstreamCalls = () => sim.requests().filter((r) => r.method === 'POST');
/** What the upstream got in the last request, as text. */
const lastUpstreamBody = () => JSON.stringify(upstreamCalls().at(-1)?.body);
const upstreamCount = () => upstreamCalls().length;

describe('request-side guardrails on every surface', () => {
  describe.each(SURFACES)('$name', (c) => {
    it('masks what the local detector finds before the upstream sees it', async () => {
      const r = await send(c, 'masked-model', `write to ${EMAIL} or call +44 20 7946 0958`);
      expect(r.status).toBe(200);
      const sent = lastUpstreamBody();
      expect(sent).toContain('write to [EMAIL] or call [PHONE]');
      expect(sent).not.toContain(EMAIL);
    });

    it('denies in the surface shape before any upstream attempt', async () => {
      const before = upstreamCount();
      const r = await send(c, 'masked-model', `my card is ${CARD}`);
      expect(r.status).toBe(400);
      expect(r.headers.get('x-should-retry')).toBe('false');
      const e = errorOf(c.shape, r.text);
      expect(e.message).toContain('denied by guardrail pii (card)');
      if (c.shape === 'openai') expect(e).toMatchObject({ code: 'guardrail_denied', type: 'invalid_request_error' });
      if (c.shape === 'anthropic') expect(e.code).toBe('invalid_request_error');
      expect(upstreamCount()).toBe(before);
      expect(r.text).not.toContain(CARD);
    });

    it('applies the external service: mask and deny', async () => {
      svc.reset();
      expect((await send(c, 'ext-model', 'the classified plan')).status).toBe(200);
      expect(lastUpstreamBody()).toContain('the [REDACTED] plan');
      const before = upstreamCount();
      const r = await send(c, 'ext-model', 'a forbidden word');
      expect(r.status).toBe(400);
      expect(errorOf(c.shape, r.text).message).toContain('guardrail ext (blocked_word)');
      expect(upstreamCount()).toBe(before);
    });
  });
});

describe('external guardrail failure modes', () => {
  it('fails closed with a retryable 503 and fails open by serving, when the service hangs', async () => {
    svc.reset();
    svc.set({ hang: true });
    const chat = SURFACES[0] as SurfaceCase;
    const closed = await send(chat, 'ext-model', 'hello');
    expect(closed.status).toBe(503);
    expect(errorOf('openai', closed.text).code).toBe('guardrail_unavailable');
    expect(closed.headers.get('retry-after')).toBe('1');
    const open = await send(chat, 'extopen-model', 'hello');
    expect(open.status).toBe(200);
    const m = await scrape(proxy.adminUrl);
    expect(
      sampleSum(m, 'switchyard_guardrail_errors_total', {
        guardrail: 'default/guards/ext',
        cause: 'timeout',
        mode: 'closed',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sampleSum(m, 'switchyard_guardrail_errors_total', {
        guardrail: 'default/guards/extopen',
        cause: 'timeout',
        mode: 'open',
      }),
    ).toBeGreaterThanOrEqual(1);
    svc.reset();
  });
});

describe('which guardrails apply', () => {
  const chat = () => SURFACES[0] as SurfaceCase;

  it('follows the pool: its alias reaches the same guardrails', async () => {
    expect((await send(chat(), 'masked-alias', `mail ${EMAIL}`)).status).toBe(200);
    expect(lastUpstreamBody()).toContain('mail [EMAIL]');
  });

  it("applies a tenant's guardrails to its requests only", async () => {
    expect((await send(chat(), 'tenant-model', `mail ${EMAIL}`, KEYS.teamA)).status).toBe(200);
    expect(lastUpstreamBody()).toContain('mail [EMAIL]');
    expect((await send(chat(), 'tenant-model', `mail ${EMAIL}`)).status).toBe(200);
    expect(lastUpstreamBody()).toContain(EMAIL);
  });

  it('counts decisions per guardrail, phase and action', async () => {
    const m = await scrape(proxy.adminUrl);
    const count = (action: string) =>
      sampleSum(m, 'switchyard_guardrail_decisions_total', {
        guardrail: 'default/guards/pii',
        phase: 'request',
        action,
      });
    expect(count('mask')).toBeGreaterThanOrEqual(SURFACES.length);
    expect(count('deny')).toBe(SURFACES.length);
  });
});

describe('guardrails in the access log', () => {
  it('records guardrail, phase, action and failure cause per request, and never the text checked', async () => {
    const marks = logLines
      .map((l) => JSON.parse(l) as { log?: string; guardrails?: unknown[] })
      .filter((l) => l.log === 'access')
      .flatMap((l) => l.guardrails ?? []);
    expect(marks).toContainEqual({ guardrail: 'default/guards/pii', phase: 'request', action: 'mask' });
    expect(marks).toContainEqual({ guardrail: 'default/guards/pii', phase: 'request', action: 'deny' });
    expect(marks).toContainEqual({ guardrail: 'default/guards/ext', phase: 'request', action: 'mask' });
    expect(marks).toContainEqual({
      guardrail: 'default/guards/ext',
      phase: 'request',
      action: 'deny',
      failed: 'timeout',
    });
    expect(marks).toContainEqual({
      guardrail: 'default/guards/extopen',
      phase: 'request',
      action: 'allow',
      failed: 'timeout',
    });
    const all = logLines.join('\n');
    for (const text of [EMAIL, CARD, '7946 0958', 'classified', 'forbidden']) expect(all).not.toContain(text);
  });
});
