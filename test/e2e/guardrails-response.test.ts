/**
 * Response-side guardrails end to end, on every surface that answers text, streamed and not. The simulator answers
 * exactly the text a `[sim output=…]` directive asks for (request-side checks are off for these guardrails, so the
 * directive itself is not masked): the local detector masks (streamed through its window, the email split across
 * tokens still caught) and denies (a whole answer: 400 in the surface's shape; a stream: the surface's error event
 * instead of its end); the external stand-in masks and denies streamed text too, and when it hangs the answer is
 * withheld (closed: 503, in a stream the error event) or passed on unchanged (open). Responses API streams keep their
 * event numbering through the window and end a denial with the API's own error event.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GuardrailService, startGuardrailService } from '../sim/guardrail.js';
import { type Simulator, startSimulator } from '../sim/index.js';
import { scrape } from '../support/metrics-scrape.js';
import { openAPIValidator } from '../support/openapi.js';
import { sampleSum } from '../support/prom-text.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { backendAndPool, routePolicy } from './governance-fixtures.js';

let sim: Simulator;
let svc: GuardrailService;
let proxy: TestProxy;

const validate = openAPIValidator();
const EMAIL = 'jane.doe@example.com';
const CARD = '4111 1111 1111 1111';
/** `text` without its random ids (request, message, item ids), which may hold the digits of the card by chance. */
const withoutIds = (text: string) => text.replace(/"(id|request_id|item_id)":"[^"]*"/g, '');

beforeAll(async () => {
  [sim, svc] = await Promise.all([startSimulator({ flavour: 'vllm', itlMs: 1 }), startGuardrailService()]);
  const manifests = [
    backendAndPool('local', 'local-model', [sim.url]),
    backendAndPool('ext', 'ext-model', [sim.url]),
    backendAndPool('extclosed', 'extclosed-model', [sim.url]),
    backendAndPool('extopen', 'extopen-model', [sim.url]),
    routePolicy(
      'answers',
      `  guardrails:
    - { name: pii, phases: [response], streamWindowChars: 32, local: { mask: [email], deny: [card] } }
    - { name: ext, phases: [response], streamWindowChars: 16, external: { url: "${svc.url}", timeout: 2s } }
    - { name: extclosed, phases: [response], streamWindowChars: 16, external: { url: "${svc.url}", timeout: 200ms } }
    - name: extopen
      phases: [response]
      streamWindowChars: 16
      external: { url: "${svc.url}", timeout: 200ms, failureMode: open }
  rules:
    - { match: { model: { value: local-model } }, guardrails: [pii] }
    - { match: { model: { value: ext-model } }, guardrails: [ext] }
    - { match: { model: { value: extclosed-model } }, guardrails: [extclosed] }
    - { match: { model: { value: extopen-model } }, guardrails: [extopen] }`,
    ),
  ].join('');
  proxy = await startTestProxy(manifests);
});

afterAll(async () => {
  await proxy?.stop();
  await Promise.all([sim?.close(), svc?.close()]);
});

type Shape = 'openai' | 'anthropic' | 'ollama';
interface Case {
  name: string;
  path: string;
  shape: Shape;
  stream: boolean;
  body: (model: string, prompt: string) => Record<string, unknown>;
  /** The answer text of a whole answer. */
  text: (body: Record<string, unknown>) => string;
}

type J = Record<string, unknown>;
const first = (v: unknown) => (Array.isArray(v) ? (v[0] as J) : ({} as J));

const CASES: Case[] = [
  {
    name: 'OpenAI chat',
    path: '/v1/chat/completions',
    shape: 'openai',
    stream: false,
    body: (model, p) => ({ model, messages: [{ role: 'user', content: p }] }),
    text: (b) => String((first(b.choices).message as J).content),
  },
  {
    name: 'OpenAI completions',
    path: '/v1/completions',
    shape: 'openai',
    stream: false,
    body: (model, p) => ({ model, prompt: p }),
    text: (b) => String(first(b.choices).text),
  },
  {
    name: 'Anthropic messages',
    path: '/v1/messages',
    shape: 'anthropic',
    stream: false,
    body: (model, p) => ({ model, max_tokens: 200, messages: [{ role: 'user', content: p }] }),
    text: (b) => String(first(b.content).text),
  },
  {
    name: 'Ollama chat',
    path: '/api/chat',
    shape: 'ollama',
    stream: false,
    body: (model, p) => ({ model, stream: false, messages: [{ role: 'user', content: p }] }),
    text: (b) => String((b.message as J).content),
  },
  {
    name: 'Ollama generate',
    path: '/api/generate',
    shape: 'ollama',
    stream: false,
    body: (model, p) => ({ model, stream: false, prompt: p }),
    text: (b) => String(b.response),
  },
];
const STREAMED: Case[] = CASES.map((c) => ({
  ...c,
  name: `${c.name}, streamed`,
  stream: true,
  body: (model, p) => ({ ...c.body(model, p), stream: true }),
}));

/** The text deltas of a streamed answer, and its error event if it ended with one. */
function streamed(shape: Shape, raw: string): { deltas: string[]; error?: string } {
  const deltas: string[] = [];
  let error: string | undefined;
  const payloads =
    shape === 'ollama'
      ? raw.split('\n').filter((l) => l.trim() !== '')
      : raw
          .split('\n')
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).trim());
  for (const p of payloads) {
    if (p === '[DONE]') continue;
    const d = JSON.parse(p) as J;
    if (d.error !== undefined) {
      error = typeof d.error === 'string' ? d.error : String((d.error as J).message);
      continue;
    }
    const choice = first(d.choices);
    const text =
      shape === 'openai'
        ? ((choice.delta as J | undefined)?.content ?? choice.text)
        : shape === 'anthropic'
          ? (d.delta as J | undefined)?.text
          : ((d.message as J | undefined)?.content ?? d.response);
    if (typeof text === 'string' && text !== '') deltas.push(text);
  }
  return { deltas, ...(error !== undefined ? { error } : {}) };
}

async function send(c: Case, model: string, output: string) {
  const prompt = `[sim output=${output}] go`;
  const res = await fetch(`${proxy.url}${c.path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify(c.body(model, prompt)),
  });
  return { status: res.status, text: await res.text() };
}

const LONG = `Our contact is ${EMAIL} and the office is open from nine to five on weekdays, closed on holidays`;

describe.each([...CASES, ...STREAMED])('response-side guardrails: $name', (c) => {
  const answer = (raw: string) => (c.stream ? streamed(c.shape, raw).deltas.join('') : c.text(JSON.parse(raw)));

  it('masks what the local detector finds in the answer', async () => {
    const r = await send(c, 'local-model', LONG);
    expect(r.status).toBe(200);
    expect(answer(r.text)).toBe(LONG.replace(EMAIL, '[EMAIL]'));
    expect(r.text).not.toContain(EMAIL);
    if (c.stream) {
      const s = streamed(c.shape, r.text);
      expect(s.error).toBeUndefined();
      // Tokens still flow: the answer arrives in several pieces, not in one at the end.
      expect(s.deltas.length).toBeGreaterThan(2);
    }
  });

  it('denies an answer holding a card number, in the surface shape', async () => {
    const r = await send(c, 'local-model', `Sure, the card is ${CARD} as requested and more text follows here`);
    expect(r.text).not.toContain(CARD);
    expect(withoutIds(r.text)).not.toContain('4111');
    if (c.stream) {
      expect(r.status).toBe(200);
      const s = streamed(c.shape, r.text);
      expect(s.error).toContain('withheld by guardrail pii (card)');
      if (c.shape === 'openai') expect(r.text).not.toContain('[DONE]');
      if (c.shape === 'anthropic') expect(r.text).toContain('event: error');
    } else {
      expect(r.status).toBe(400);
      const b = JSON.parse(r.text) as J;
      const message = c.shape === 'ollama' ? String(b.error) : String((b.error as J).message ?? (b.error as J).type);
      expect(message).toContain('withheld by guardrail pii (card)');
      if (c.shape === 'openai') expect((b.error as J).code).toBe('guardrail_denied');
      if (c.shape === 'anthropic') expect(b.type).toBe('error');
    }
  });

  it('applies the external service to the answer: mask and deny', async () => {
    svc.reset();
    const masked = await send(c, 'ext-model', 'the classified plan is ready for review by the whole team today');
    expect(masked.status).toBe(200);
    expect(answer(masked.text)).toBe('the [REDACTED] plan is ready for review by the whole team today');
    const denied = await send(c, 'ext-model', 'this answer holds a forbidden word somewhere in the middle of it');
    if (c.stream) expect(streamed(c.shape, denied.text).error).toContain('guardrail ext (blocked_word)');
    else expect(denied.status).toBe(400);
    expect(svc.requests().every((q) => q.phase === 'response')).toBe(true);
  });
});

describe('response-side guardrail metrics', () => {
  it('counts one decision per guardrail and answer', async () => {
    const m = await scrape(proxy.adminUrl);
    const count = (action: string) =>
      sampleSum(m, 'switchyard_guardrail_decisions_total', {
        guardrail: 'default/answers/pii',
        phase: 'response',
        action,
      });
    expect(count('mask')).toBe(CASES.length * 2);
    expect(count('deny')).toBe(CASES.length * 2);
  });
});

describe('response-side failure modes of an external guardrail that hangs', () => {
  const ANSWER = 'a plain answer that the guardrail service never gets to check in time';
  const chat = CASES[0] as Case;
  const chatStreamed = STREAMED[0] as Case;

  it('withholds the answer when closed: 503 guardrail_unavailable, in a stream the error event', async () => {
    svc.set({ hang: true });
    try {
      const whole = await send(chat, 'extclosed-model', ANSWER);
      expect(whole.status).toBe(503);
      expect((JSON.parse(whole.text) as { error: J }).error.code).toBe('guardrail_unavailable');
      expect(whole.text).not.toContain(ANSWER);
      const stream = await send(chatStreamed, 'extclosed-model', ANSWER);
      const s = streamed('openai', stream.text);
      expect(s.error).toContain('Guardrail extclosed could not check the response');
      expect(s.deltas.join('')).not.toBe(ANSWER);
      expect(stream.text).not.toContain('[DONE]');
    } finally {
      svc.reset();
    }
  });

  it('passes the answer on unchanged when open, and counts the failures by mode', async () => {
    svc.set({ hang: true });
    try {
      const whole = await send(chat, 'extopen-model', ANSWER);
      expect(whole.status).toBe(200);
      expect(chat.text(JSON.parse(whole.text) as J)).toBe(ANSWER);
      const stream = await send(chatStreamed, 'extopen-model', ANSWER);
      const s = streamed('openai', stream.text);
      expect(s.error).toBeUndefined();
      expect(s.deltas.join('')).toBe(ANSWER);
    } finally {
      svc.reset();
    }
    const m = await scrape(proxy.adminUrl);
    const errors = (guardrail: string, mode: string) =>
      sampleSum(m, 'switchyard_guardrail_errors_total', { guardrail, cause: 'timeout', mode });
    expect(errors('default/answers/extclosed', 'closed')).toBeGreaterThanOrEqual(2);
    expect(errors('default/answers/extopen', 'open')).toBeGreaterThanOrEqual(2);
  });
});

describe('response-side guardrails: the Responses API through the openai SDK', () => {
  const client = () => new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const collect = async (output: string) => {
    const stream = await client().responses.create({
      model: 'local-model',
      input: `[sim output=${output}] go`,
      stream: true,
    });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const e of stream) events.push(e);
    return events;
  };

  it('masks output_text, whole and streamed, and numbers the events it writes in order', async () => {
    const whole = await client().responses.create({ model: 'local-model', input: `[sim output=${LONG}] go` });
    expect(whole.output_text).toBe(LONG.replace(EMAIL, '[EMAIL]'));
    const events = await collect(LONG);
    for (const e of events) expect(validate('ResponseStreamEvent', e), e.type).toEqual([]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const deltas = events.flatMap((e) => (e.type === 'response.output_text.delta' ? [e.delta] : []));
    expect(deltas.length).toBeGreaterThan(2);
    expect(deltas.join('')).toBe(LONG.replace(EMAIL, '[EMAIL]'));
    expect(JSON.stringify(events)).not.toContain(EMAIL);
  });

  it("ends a denied stream with the API's numbered error event", async () => {
    const events = await collect(`Sure, the card is ${CARD} as requested and more text follows here`);
    expect(withoutIds(JSON.stringify(events))).not.toContain('4111');
    const last = events.at(-1);
    expect(last?.type).toBe('error');
    expect(last?.type === 'error' && last.message).toContain('withheld by guardrail pii (card)');
    expect(validate('ResponseStreamEvent', last)).toEqual([]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
  });
});
