/**
 * What every answer of the proxy must satisfy, whatever was sent: no empty 2xx, no 5xx the upstream does not
 * explain, errors in the surface's own shape, streams that end either cleanly or with an error event, no credential
 * and no upstream-only header reaching the client, and (for the upstream fuzzer) what the hostile class allows.
 */
import type { Expectation } from '../sim/hostile/index.js';
import type { Observed } from './http-client.js';

/** The client surfaces (their error and stream shapes differ). */
export type SurfaceName = 'openai' | 'anthropic' | 'ollama';

/** A broken invariant: its class (for counts) and what was seen. */
export interface Defect {
  cls: string;
  detail: string;
}

/** The surface whose shapes an answer for request target `target` uses (the proxy's ownership rules). */
export function surfaceOf(target: string): SurfaceName {
  let path: string;
  try {
    // An origin-form target is a path even when it starts with `//` (not a host).
    path = new URL(target.startsWith('/') ? `http://127.0.0.1${target}` : target, 'http://127.0.0.1').pathname;
  } catch {
    return 'openai';
  }
  if (path === '/v1/messages' || path.startsWith('/v1/messages/')) return 'anthropic';
  if (path === '/' || path === '/api' || path.startsWith('/api/')) return 'ollama';
  return 'openai';
}

function json(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const rec = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

/** Whether `body` is an error in `surface`'s shape. */
export function isSurfaceError(surface: SurfaceName, body: unknown): boolean {
  const j = rec(body);
  if (!j) return false;
  if (surface === 'ollama') return typeof j.error === 'string';
  if (surface === 'anthropic') return j.type === 'error' && typeof rec(j.error)?.type === 'string';
  return typeof rec(j.error)?.message === 'string';
}

/** How a streamed answer ended. */
export interface StreamReading {
  /** `clean`: the protocol's end marker last; `error`: an error event last; `cut`: neither. */
  end: 'clean' | 'error' | 'cut';
  events: number;
  /** An event that is not JSON (or not the protocol's framing). */
  malformed?: string;
}

/** Whether `target` is the Responses API, whose stream ends with a typed event instead of `[DONE]`. */
export function isResponsesApi(target: string): boolean {
  try {
    return new URL(target, 'http://127.0.0.1').pathname === '/v1/responses';
  } catch {
    return false;
  }
}

/** How a Responses stream ended: `response.completed`/`.incomplete` last, or the numbered `error` event. */
function responsesEnd(last: unknown): StreamReading['end'] {
  const j = rec(last);
  if (j?.type === 'response.completed' || j?.type === 'response.incomplete') return 'clean';
  if (j?.type === 'error' && typeof j.message === 'string' && typeof j.sequence_number === 'number') return 'error';
  return isSurfaceError('openai', j) ? 'error' : 'cut';
}

/** Reads a streamed answer of `surface` (of the Responses API when `responses`) and tells how it ended. */
export function readStream(surface: SurfaceName, text: string, responses = false): StreamReading {
  if (surface === 'ollama') {
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    let last: unknown;
    for (const l of lines) {
      last = json(l);
      if (last === undefined) return { end: 'cut', events: lines.length, malformed: l.slice(0, 120) };
    }
    const j = rec(last);
    const end = j?.done === true ? 'clean' : isSurfaceError(surface, j) ? 'error' : 'cut';
    return { end, events: lines.length };
  }
  const blocks = text.split(/\r?\n\r?\n/).filter((b) => b.trim() !== '');
  let lastName: string | undefined;
  let lastData: string | undefined;
  let events = 0;
  for (const b of blocks) {
    const lines = b.split(/\r?\n/);
    const data = lines
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).replace(/^ /, ''))
      .join('\n');
    const name = lines
      .find((l) => l.startsWith('event:'))
      ?.slice(6)
      .trim();
    if (data === '' && name === undefined) continue;
    events++;
    if (data !== '[DONE]' && json(data) === undefined) return { end: 'cut', events, malformed: b.slice(0, 120) };
    lastName = name;
    lastData = data;
  }
  if (surface === 'anthropic') {
    const end = lastName === 'message_stop' ? 'clean' : lastName === 'error' ? 'error' : 'cut';
    return { end, events };
  }
  if (responses) return { end: responsesEnd(json(lastData ?? '')), events };
  const end = lastData === '[DONE]' ? 'clean' : isSurfaceError(surface, json(lastData ?? '')) ? 'error' : 'cut';
  return { end, events };
}

/** What a check needs to know about the request behind an answer. */
export interface AnswerContext {
  method: string;
  path: string;
  /** The request was malformed at the HTTP level: Node's own bare 4xx (no body) is allowed. */
  httpMalformed?: boolean;
  /** 502/503/504 are explained (the upstream misbehaved or was made unavailable on purpose). */
  upstreamMayFail?: boolean;
  /** What the hostile upstream allows (upstream fuzzer), when the request reached it. */
  expect?: Expectation;
  /** Strings that must never reach the client (credentials), each also checked by its leading part. */
  secrets?: readonly string[];
}

const STREAM_TYPES = /text\/event-stream|application\/x-ndjson/;
/** Upstream-only headers the hostile upstream sends that must never be relayed. */
const FORBIDDEN_HEADERS = ['set-cookie', 'x-hostile-leak', 'x-echo-key', 'www-authenticate', 'x-hostile-huge'];

/** Secret fragments to look for: the whole secret and its first 12 characters after any `sk-` style prefix. */
export function secretFragments(secret: string): string[] {
  const tail = secret.replace(/^[a-z]+-/, '');
  return [secret, tail.slice(0, 12)].filter((s) => s.length >= 8);
}

/** Every invariant one answer breaks. */
export function checkAnswer(ctx: AnswerContext, r: Observed): Defect[] {
  const out: Defect[] = [];
  const surface = surfaceOf(ctx.path);
  const text = r.body.toString('utf8');
  const head = `${r.status} ${ctx.method} ${ctx.path}`;
  const type = r.headers['content-type'] ?? '';
  const ok = r.status >= 200 && r.status < 300;
  for (const s of ctx.secrets ?? [])
    for (const f of secretFragments(s)) {
      const where = text.includes(f) ? 'body' : Object.values(r.headers).some((v) => v.includes(f)) ? 'headers' : '';
      if (where) out.push({ cls: 'credential-leak', detail: `${head}: ${f.slice(0, 6)}… in the ${where}` });
    }
  for (const h of FORBIDDEN_HEADERS)
    if (h in r.headers) out.push({ cls: 'upstream-header-relayed', detail: `${head}: ${h}` });
  if (r.status >= 500) {
    // 529 is the Anthropic API's own "overloaded" status, relayed to Anthropic clients.
    const relayed = surface === 'anthropic' ? [502, 503, 504, 529] : [502, 503, 504];
    const explained = ctx.upstreamMayFail && relayed.includes(r.status) && ctx.expect !== 'ok';
    if (!explained) out.push({ cls: `unexplained-${r.status}`, detail: `${head}: ${text.slice(0, 200)}` });
  }
  if (r.status < 100) out.push({ cls: 'bad-status-line', detail: head });
  if (ok && ctx.method !== 'HEAD' && r.status !== 204 && text.trim() === '')
    out.push({ cls: 'empty-2xx', detail: `${head} ${type}` });
  if (!ok && r.status >= 400) {
    const bare = ctx.httpMalformed && r.body.length === 0;
    if (!bare && !isSurfaceError(surface, json(text)))
      out.push({ cls: 'error-shape', detail: `${head}: ${text.slice(0, 200)}` });
  }
  if (ok && ctx.method !== 'HEAD' && text.trim() !== '') {
    if (STREAM_TYPES.test(type)) {
      const s = readStream(surface, text, isResponsesApi(ctx.path));
      if (s.malformed) out.push({ cls: 'malformed-stream', detail: `${head}: ${s.malformed}` });
      else if (s.end === 'cut') out.push({ cls: 'stream-cut-silently', detail: `${head}: ${text.slice(-200)}` });
      if (ctx.expect === 'ok' && s.end !== 'clean')
        out.push({ cls: 'valid-answer-failed', detail: `${head} stream ended ${s.end}: ${text.slice(-200)}` });
      if (ctx.expect === 'fail' && s.end === 'clean')
        out.push({ cls: 'broken-answer-as-success', detail: `${head}: ${text.slice(-200)}` });
      if (ctx.expect === 'reject') out.push({ cls: 'error-as-2xx', detail: `${head}: ${text.slice(0, 200)}` });
    } else {
      if (/json/.test(type) && json(text) === undefined)
        out.push({ cls: 'malformed-2xx-body', detail: `${head}: ${text.slice(0, 200)}` });
      if (ctx.expect === 'fail' || ctx.expect === 'reject')
        out.push({ cls: 'error-as-2xx', detail: `${head}: ${text.slice(0, 200)}` });
    }
  }
  if (ctx.expect === 'ok' && !ok) out.push({ cls: 'valid-answer-failed', detail: `${head}: ${text.slice(0, 200)}` });
  if (ok && !r.complete) out.push({ cls: 'truncated-framing', detail: `${head}: ${r.body.length} bytes` });
  return out;
}
