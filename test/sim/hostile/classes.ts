/**
 * The hostile classes: each turns the well-formed answer to one upstream request into a broken (or oddly framed but
 * valid) one, chosen by a seed, and says what a client of the proxy may then see:
 * - `ok`: a 2xx with the complete answer (the oddity is legal and must be handled);
 * - `fail`: a non-2xx, or a 2xx stream that ends with an error event (never a clean-looking end);
 * - `reject`: a non-2xx (nothing was usable before the failure);
 * - `any`: only the general invariants (no crash, no empty 2xx, no 500, shapes, bounded time and memory).
 */
import {
  type Answer,
  type AnswerSpec,
  type Ev,
  errorBody,
  errorEvent,
  type Operation,
  type Protocol,
  type UpstreamCall,
} from './answers.js';
import type { Rng } from './rng.js';
import {
  chunk,
  type EventStyle,
  frameEvents,
  httpHead,
  type Plan,
  raw,
  type SerializeOptions,
  serialize,
} from './wire.js';

/** What a client of the proxy may see after a class's answer (see above). */
export type Expectation = 'ok' | 'fail' | 'reject' | 'any';

/** What a class builds its answer from. */
export interface ClassContext {
  call: UpstreamCall;
  rng: Rng;
  protocol: Protocol;
  operation: Operation;
  stream: boolean;
  /** The well-formed answer saying `spec` (default: the request's usual answer). */
  answer(spec?: Partial<AnswerSpec>): Answer;
  /** The usual answer to another request (e.g. one of another protocol). */
  answerFor(call: UpstreamCall): Answer;
  /** The credential the request carried (bearer or x-api-key), if any. */
  credential: string | undefined;
  /** Upper bound of the bytes an endless line writes. */
  endlessCapBytes: number;
}

/** A class's answer: the bytes to write and what the client may see. */
export interface Built {
  plan: Plan;
  expect: Expectation;
  /** Which variant was chosen (for reports). */
  note: string;
}

/** One way of answering. */
export interface HostileClass {
  name: string;
  build(ctx: ClassContext): Built;
}

const body = (a: Answer, style?: EventStyle) => Buffer.from(frameEvents(a.framing, a.events, style));
const whole = (a: Answer, o: SerializeOptions = {}, style?: EventStyle) => serialize(a, body(a, style), o);
/** Sorted random cut offsets inside `len` bytes. */
function randomCuts(rng: Rng, len: number, maxPiece: number): number[] {
  const cuts: number[] = [];
  for (let at = rng.range(1, maxPiece); at < len; at += rng.range(1, maxPiece)) cuts.push(at);
  return cuts;
}
/** `fail` when something usable may have preceded the break, `reject` when nothing did. */
const failAt = (index: number): Expectation => (index === 0 ? 'reject' : 'fail');
const withEvents = (a: Answer, events: Ev[]): Answer => ({ ...a, events });
const closeFramed = (a: Answer, events: Ev[], o: SerializeOptions = {}) => whole(withEvents(a, events), o);

/** A JSON value text with one syntax error (checked: a brace inside a string would still parse). */
function breakJson(rng: Rng, text: string): { text: string; note: string } {
  for (let attempt = 0; attempt < 8; attempt++) {
    const broken = breakOnce(rng, text);
    try {
      JSON.parse(broken.text);
    } catch {
      return broken;
    }
  }
  return { text: text.slice(0, Math.max(1, text.length - 1)), note: 'cut' };
}

function breakOnce(rng: Rng, text: string): { text: string; note: string } {
  const at = rng.range(1, Math.max(1, text.length - 1));
  const v = rng.int(6);
  if (v === 0) return { text: text.slice(0, at), note: 'cut' };
  if (v === 1) return { text: `${text.slice(0, at)}}${text.slice(at)}`, note: 'stray brace' };
  if (v === 2) return { text: text.replaceAll('"', "'"), note: 'single quotes' };
  if (v === 3) return { text: `${text}garbage`, note: 'trailing garbage' };
  if (v === 4) return { text: text.replace(/:\s*\d+/, ':NaN'), note: 'NaN token' };
  return { text: `${text.slice(0, at)}\u0000${text.slice(at)}`, note: 'NUL byte' };
}

const ABSURD_NUMBERS = [
  '-1',
  '-1e308',
  '1e308',
  '"NaN"',
  '"12"',
  'null',
  '{}',
  '[]',
  '1.5',
  '18446744073709551616',
  '9007199254740993',
  '1e999',
  '-0',
  'true',
];

const WRONG_SHAPES = [
  '[]',
  'null',
  '1',
  '"text"',
  '{}',
  'true',
  '{"choices":null}',
  '{"choices":[{}]}',
  '{"message":7}',
];

const WRONG_TYPES = [
  'text/html',
  'text/plain',
  'application/octet-stream',
  '',
  'application/json',
  'text/event-stream',
  'application/x-ndjson',
  'application/json; charset=utf-16',
  ';;;',
];

const UNICODE_PIECES = ['😀', ' 漢字', ' e\u0301', '\u0000', '\ud83d', ' \u202e', '\ufeff', ' \u2028', '\udfff'];

const GARBAGE_BODIES = [
  '<html><body><h1>502 Bad Gateway</h1></body></html>',
  '\u0000\u0001\u0002\u00ff',
  '',
  '{"error":',
  'Internal Server Error',
  '{"error":{"message":42}}',
  '{"type":"error"}',
];

/** Nested arrays `depth` deep. */
const deep = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

function credentialEcho(ctx: ClassContext): Built {
  const { rng, protocol } = ctx;
  const key = ctx.credential ?? 'sk-no-credential-was-sent';
  const pad = 'x'.repeat(rng.pick([0, 37, 100, 190, 240, 250, 480, 500, 990, 1000, 4080]));
  const shapes = [
    `Incorrect API key provided: ${key}.`,
    `${pad}${key}`,
    `${pad} key=${key}`,
    `${pad} Bearer ${key} is not valid`,
    `https://upstream.example/?api_key=${key}&x=1`,
    `"${key}"`,
  ];
  const message = rng.pick(shapes);
  const where = rng.int(ctx.stream ? 4 : 3);
  const status = rng.pick([400, 401, 403, 429, 500, 503]);
  if (where === 3) {
    const a = ctx.answer();
    const at = rng.range(1, a.endAt);
    const events = [...a.events.slice(0, at), errorEvent(protocol, 500, message)];
    return { plan: closeFramed(a, events), expect: 'fail', note: `mid-stream error event at ${at}` };
  }
  const a = ctx.answer();
  const text =
    where === 0
      ? errorBody(protocol, status, message)
      : where === 1
        ? `{"error":{"message":"denied","type":"auth","param":${JSON.stringify(key)},"details":{"key":${JSON.stringify(key)}}}}`
        : errorBody(protocol, status, 'denied');
  const extra: [string, string][] =
    where === 2
      ? [
          ['x-echo-key', key],
          ['www-authenticate', `Bearer realm="x", key="${key}"`],
        ]
      : [];
  const plan = serialize({ ...a, stream: false }, Buffer.from(text), {
    status,
    contentType: 'application/json',
    extraHeaders: extra,
    transfer: 'length',
  });
  return { plan, expect: 'reject', note: `status ${status}, ${['message', 'fields', 'headers'][where]}` };
}

/** Every class, by name. */
export const CLASSES: HostileClass[] = [
  {
    name: 'valid',
    build(ctx) {
      const a = ctx.answer();
      const transfer = ctx.rng.pick(
        a.stream ? (['chunked', 'close'] as const) : (['length', 'chunked', 'close'] as const),
      );
      const keepAlive = ctx.rng.chance(0.5);
      return {
        plan: whole(a, { transfer, keepAlive }),
        expect: 'ok',
        note: `${transfer}${keepAlive ? ' keep-alive' : ''}`,
      };
    },
  },
  {
    name: 'valid-tools',
    build(ctx) {
      const a = ctx.answer({
        tools: [{ id: 'call_hostile', name: 'get_weather', args: ['{"ci', 'ty":"Pa', 'ris","n":3}'] }],
      });
      return { plan: whole(a), expect: 'ok', note: 'one tool call' };
    },
  },
  {
    name: 'drip',
    build(ctx) {
      const a = ctx.answer();
      const b = body(a);
      const cuts = Array.from({ length: b.length - 1 }, (_, i) => i + 1);
      const transfer = a.stream ? 'chunked' : ctx.rng.pick(['length', 'close'] as const);
      return { plan: serialize(a, b, { cuts, transfer }), expect: 'ok', note: `${b.length} one-byte writes` };
    },
  },
  {
    name: 'split',
    build(ctx) {
      const a = ctx.answer({ pieces: ['Caf', 'é ', '😀', ' 漢字', ' done'] });
      const b = body(a);
      const transfer = ctx.rng.pick(['length', 'chunked', 'close'] as const);
      return {
        plan: serialize(a, b, { cuts: randomCuts(ctx.rng, b.length, 7), transfer }),
        expect: 'ok',
        note: `random cuts (${transfer})`,
      };
    },
  },
  {
    name: 'slow',
    build(ctx) {
      const a = ctx.answer();
      const firstDelayMs = ctx.rng.range(100, 1200);
      const delayMs = a.stream ? ctx.rng.range(20, 150) : 0;
      const b = body(a);
      const cuts = a.stream ? randomCuts(ctx.rng, b.length, 400) : [];
      return {
        plan: serialize(a, b, { firstDelayMs, delayMs, cuts }),
        expect: 'ok',
        note: `first byte after ${firstDelayMs} ms, ${delayMs} ms between writes`,
      };
    },
  },
  {
    name: 'framing',
    build(ctx) {
      const a = ctx.answer();
      if (a.framing === 'json') return { plan: whole(a, { transfer: 'close' }), expect: 'ok', note: 'json' };
      const variants: [EventStyle, Expectation, string][] =
        a.framing === 'sse'
          ? [
              [{ eol: '\r\n' }, 'ok', 'CRLF'],
              [{ noSpace: true }, 'ok', 'no space after colon'],
              [{ comments: true }, 'ok', 'comment lines'],
              [{ idRetry: true }, 'ok', 'id and retry fields'],
              [{ eol: '\r' }, 'any', 'CR line ends'],
            ]
          : [
              [{ blankLines: true }, 'ok', 'blank lines'],
              [{ eol: '\r\n' }, 'ok', 'CRLF'],
              [{ noFinalEol: true }, 'any', 'no final newline'],
            ];
      const [style, expect, note] = ctx.rng.pick(variants);
      return { plan: whole(a, {}, style), expect, note };
    },
  },
  {
    name: 'unicode',
    build(ctx) {
      const pieces = Array.from({ length: ctx.rng.range(2, 8) }, () => ctx.rng.pick(UNICODE_PIECES));
      const a = ctx.answer({ pieces });
      const b = body(a);
      return {
        plan: serialize(a, b, { cuts: randomCuts(ctx.rng, b.length, 3) }),
        expect: 'ok',
        note: JSON.stringify(pieces),
      };
    },
  },
  {
    name: 'absurd-usage',
    build(ctx) {
      const usage = { input: ctx.rng.pick(ABSURD_NUMBERS), output: ctx.rng.pick(ABSURD_NUMBERS) };
      // A token count is the whole answer of count_tokens: there, an absurd one may be refused as malformed.
      const expect = ctx.operation === 'count_tokens' ? 'any' : 'ok';
      return { plan: whole(ctx.answer({ usage })), expect, note: `input ${usage.input}, output ${usage.output}` };
    },
  },
  {
    name: 'extra-fields',
    build(ctx) {
      const a = ctx.answer();
      const extra = ',"hostile_extra":{"a":[1,{"b":null}],"c":"\\u0000"},"object_extra":null';
      const events = a.events.map((e) =>
        e.data.startsWith('{') ? { ...e, data: `${e.data.slice(0, -1)}${extra}}` } : e,
      );
      return { plan: closeFramed(a, events), expect: 'ok', note: 'unknown fields on every object' };
    },
  },
  {
    name: 'wrong-content-type',
    build(ctx) {
      const contentType = ctx.rng.pick(WRONG_TYPES);
      return { plan: whole(ctx.answer(), { contentType }), expect: 'any', note: contentType || 'no content-type' };
    },
  },
  {
    name: 'empty-2xx',
    build(ctx) {
      const status = ctx.rng.pick([200, 200, 201, 204]);
      const a = ctx.answer();
      const how = ctx.rng.int(3);
      const plan =
        how === 0
          ? serialize(a, Buffer.alloc(0), { status, transfer: 'length' })
          : how === 1
            ? serialize(a, Buffer.alloc(0), { status, transfer: 'chunked' })
            : raw(httpHead(status, [['content-type', a.contentType]], 'close', 0));
      return { plan, expect: 'reject', note: `${status} ${['length 0', 'chunked', 'close'][how]}` };
    },
  },
  {
    name: 'error-status',
    build(ctx) {
      const status = ctx.rng.pick([
        400, 401, 403, 404, 408, 409, 413, 418, 422, 429, 451, 499, 500, 502, 503, 504, 529, 599,
      ]);
      const a = ctx.answer();
      const plan = serialize(
        { ...a, stream: false },
        Buffer.from(errorBody(ctx.protocol, status, `hostile ${status}`)),
        {
          status,
          contentType: 'application/json',
          transfer: 'length',
        },
      );
      return { plan, expect: 'reject', note: String(status) };
    },
  },
  {
    name: 'error-garbage',
    build(ctx) {
      const status = ctx.rng.pick([400, 404, 429, 500, 502, 503]);
      const v = ctx.rng.int(GARBAGE_BODIES.length + 2);
      const text =
        v === GARBAGE_BODIES.length
          ? 'E'.repeat(2 * 1024 * 1024)
          : v === GARBAGE_BODIES.length + 1
            ? `{"error":${deep(50_000)}}`
            : (GARBAGE_BODIES[v] as string);
      const a = ctx.answer();
      const plan = serialize({ ...a, stream: false }, Buffer.from(text), {
        status,
        contentType: ctx.rng.pick(['text/html', 'application/json', '']),
        transfer: ctx.rng.pick(['length', 'chunked', 'close'] as const),
      });
      return { plan, expect: 'reject', note: `${status} with ${text.length} bytes ${text.slice(0, 20)}` };
    },
  },
  {
    name: 'odd-2xx',
    build(ctx) {
      const status = ctx.rng.pick([201, 202, 203, 206, 226, 299]);
      return { plan: whole(ctx.answer(), { status }), expect: 'any', note: String(status) };
    },
  },
  {
    name: 'redirect',
    build(ctx) {
      const status = ctx.rng.pick([301, 302, 303, 307, 308, 300, 304]);
      const a = ctx.answer();
      const plan = serialize({ ...a, stream: false }, Buffer.from(status === 304 ? '' : 'moved'), {
        status,
        contentType: 'text/plain',
        transfer: 'length',
        extraHeaders: [['location', 'http://127.0.0.1:1/elsewhere']],
      });
      return { plan, expect: 'reject', note: String(status) };
    },
  },
  {
    name: 'no-answer',
    build(ctx) {
      const ending = ctx.rng.pick(['reset', 'close', 'hang'] as const);
      return { plan: { parts: [], ending }, expect: 'reject', note: ending };
    },
  },
  {
    name: 'bad-http',
    build(ctx) {
      const a = ctx.answer();
      const b = frameEvents(a.framing, a.events);
      const n = Buffer.byteLength(b);
      const ct = `content-type: ${a.contentType}\r\n`;
      const variants: [string, string, Expectation][] = [
        [`HTTP/1.1 2OO OK\r\n${ct}content-length: ${n}\r\n\r\n${b}`, 'bad status code', 'reject'],
        [`ICY 200 OK\r\n${ct}\r\n${b}`, 'not HTTP', 'reject'],
        ['\u0000\u0001garbage\r\n\r\n', 'binary garbage', 'reject'],
        [`HTTP/1.1 200 OK\r\n${ct}this is not a header\r\n\r\n${b}`, 'header without colon', 'reject'],
        [`HTTP/1.1 200 OK\r\n${ct}content-length: abc\r\n\r\n${b}`, 'content-length abc', 'reject'],
        [`HTTP/1.1 200 OK\r\n${ct}content-length: 5\r\ncontent-length: 7\r\n\r\n${b}`, 'two content-lengths', 'reject'],
        [`HTTP/1.1 200 OK\r\n${ct}content-length: ${n + 500}\r\n\r\n${b}`, 'content-length longer than body', 'any'],
        [`HTTP/1.1 200 OK\r\n${ct}content-length: ${Math.floor(n / 2)}\r\n\r\n${b}`, 'content-length half', 'fail'],
        [
          `HTTP/1.1 200 OK\r\n${ct}transfer-encoding: chunked\r\n\r\nzz\r\n${b}\r\n0\r\n\r\n`,
          'bad chunk size',
          'reject',
        ],
        [
          `HTTP/1.1 200 OK\r\n${ct}transfer-encoding: chunked\r\n\r\n${(n + 100).toString(16)}\r\n${b}`,
          'chunk shorter than its size',
          'any',
        ],
        [
          `HTTP/1.1 200 OK\r\n${ct}transfer-encoding: chunked\r\n\r\n${n.toString(16)}\r\n${b}\r\n`,
          'no last chunk',
          'any',
        ],
        [`HTTP/1.1 200 OK\r\n${ct}x-bad: a\u0000b\r\ncontent-length: ${n}\r\n\r\n${b}`, 'NUL in a header', 'any'],
        [`HTTP/1.1 200 OK\r\n${ct}content-length: ${n}\r\ntransfer-encoding: chunked\r\n\r\n${b}`, 'CL and TE', 'any'],
      ];
      const [text, note, expect] = ctx.rng.pick(variants);
      return { plan: raw(text), expect, note };
    },
  },
  {
    name: 'cut-body',
    build(ctx) {
      const a = ctx.answer();
      const b = body(a);
      const at = ctx.rng.range(1, Math.max(1, b.length - 2));
      const ending = ctx.rng.pick(['reset', 'close', 'hang'] as const);
      const transfer = a.stream ? 'chunked' : ctx.rng.pick(['length', 'chunked', 'close'] as const);
      const plan = serialize(a, b.subarray(0, at), { transfer });
      if (transfer === 'chunked') plan.parts.pop();
      if (transfer === 'length')
        plan.parts[0] = {
          bytes: Buffer.from(httpHead(a.status, [['content-type', a.contentType]], 'length', b.length)),
        };
      plan.ending = ending;
      return { plan, expect: 'fail', note: `${ending} after ${at}/${b.length} body bytes (${transfer})` };
    },
  },
  {
    name: 'truncated',
    build(ctx) {
      const a = ctx.answer();
      if (!a.stream) {
        const text = frameEvents(a.framing, a.events);
        const at = ctx.rng.range(0, text.length - 1);
        return {
          plan: serialize(a, Buffer.from(text.slice(0, at))),
          expect: 'reject',
          note: `JSON cut at ${at} of ${text.length}, cleanly framed`,
        };
      }
      const k = ctx.rng.range(0, a.endAt);
      return {
        plan: closeFramed(a, a.events.slice(0, k)),
        expect: failAt(k),
        note: `stream ends cleanly after ${k} of ${a.events.length} events`,
      };
    },
  },
  {
    name: 'malformed-json',
    build(ctx) {
      const a = ctx.answer();
      const i = a.stream ? ctx.rng.range(0, Math.max(0, a.events.length - 2)) : 0;
      const ev = a.events[i] as Ev;
      const broken = breakJson(ctx.rng, ev.data);
      const events = a.events.map((e, j) => (j === i ? { ...e, data: broken.text } : e));
      return {
        plan: closeFramed(a, events),
        expect: a.stream ? failAt(i) : 'reject',
        note: `${broken.note} in event ${i}`,
      };
    },
  },
  {
    name: 'wrong-shape',
    build(ctx) {
      const a = ctx.answer();
      const i = a.stream ? ctx.rng.range(0, Math.max(0, a.events.length - 2)) : 0;
      const shape = ctx.rng.pick(WRONG_SHAPES);
      const events = a.events.map((e, j) => (j === i ? { ...e, data: shape } : e));
      return { plan: closeFramed(a, events), expect: a.stream ? 'any' : 'reject', note: `${shape} as event ${i}` };
    },
  },
  {
    name: 'error-first',
    build(ctx) {
      const a = ctx.answer();
      const status = ctx.rng.pick([400, 429, 500, 503, 529]);
      const ev = errorEvent(ctx.protocol, status, `hostile error ${status}`);
      const tail: Ev[] = ctx.protocol === 'openai' && ctx.rng.chance(0.5) ? [{ data: '[DONE]' }] : [];
      if (!a.stream) return { plan: whole(withEvents(a, [ev])), expect: 'reject', note: `200 with an error body` };
      return {
        plan: closeFramed(a, [ev, ...tail]),
        expect: 'reject',
        note: `error event first${tail.length ? ', then [DONE]' : ''}`,
      };
    },
  },
  {
    name: 'error-mid-stream',
    build(ctx) {
      const a = ctx.answer();
      if (!a.stream)
        return {
          plan: whole(withEvents(a, [errorEvent(ctx.protocol, 500, 'late')])),
          expect: 'reject',
          note: 'error body',
        };
      const at = ctx.rng.range(1, a.endAt);
      const events = [...a.events.slice(0, at), errorEvent(ctx.protocol, 500, 'hostile mid-stream error')];
      if (ctx.rng.chance(0.5)) events.push(...a.events.slice(at));
      return { plan: closeFramed(a, events), expect: 'fail', note: `error event at ${at}` };
    },
  },
  {
    name: 'bad-tool-call',
    build(ctx) {
      const args = ctx.rng.pick([
        ['{"city":"Par'],
        ['{"city":', '"Paris"'],
        ['[1,2]'],
        ['"just a string"'],
        ['42'],
        ['null'],
        [''],
        ['{"a":{"b":{"c":'],
      ]);
      const a = ctx.answer({ tools: [{ id: 'call_cut', name: 'get_weather', args }], finish: 'length' });
      return { plan: whole(a), expect: 'any', note: `arguments ${JSON.stringify(args.join(''))}` };
    },
  },
  {
    name: 'giant-line',
    build(ctx) {
      const size = ctx.rng.pick([256 * 1024, 1024 * 1024, 4 * 1024 * 1024, 12 * 1024 * 1024]);
      const a = ctx.answer({ pieces: ['x'.repeat(size)] });
      return { plan: whole(a), expect: 'any', note: `${size} byte piece` };
    },
  },
  {
    name: 'endless-line',
    build(ctx) {
      const a = ctx.answer();
      const start =
        a.framing === 'sse'
          ? 'data: {"choices":[{"delta":{"content":"'
          : a.framing === 'ndjson'
            ? '{"message":{"content":"'
            : '{"x":"';
      const transfer = ctx.rng.pick(['chunked', 'close'] as const);
      const head = httpHead(200, [['content-type', a.contentType]], transfer, 0);
      const filler = Buffer.alloc(64 * 1024, 'a');
      const framed = (b: Buffer) => (transfer === 'chunked' ? chunk(b) : b);
      const plan: Plan = {
        parts: [{ bytes: Buffer.from(head) }, { bytes: framed(Buffer.from(start)) }],
        ending: 'endless',
        endless: framed(filler),
      };
      return { plan, expect: 'reject', note: `never-ending line (${transfer}), up to ${ctx.endlessCapBytes} bytes` };
    },
  },
  {
    name: 'many-events',
    build(ctx) {
      const n = ctx.rng.range(1000, 6000);
      const a = ctx.answer({ pieces: Array.from({ length: n }, (_, i) => (i % 7 === 0 ? ' w' : 'x')) });
      return { plan: whole(a), expect: 'ok', note: `${n} pieces` };
    },
  },
  {
    name: 'deep-nesting',
    build(ctx) {
      const depth = ctx.rng.pick([1000, 10_000, 100_000]);
      const a = ctx.answer();
      const i = a.stream ? ctx.rng.range(0, a.events.length - 2) : 0;
      const events = a.events.map((e, j) =>
        j === i && e.data.startsWith('{') ? { ...e, data: `${e.data.slice(0, -1)},"nested":${deep(depth)}}` } : e,
      );
      return { plan: closeFramed(a, events), expect: 'any', note: `depth ${depth} in event ${i}` };
    },
  },
  {
    name: 'after-end',
    build(ctx) {
      const a = ctx.answer();
      const junk = ctx.rng.pick([
        'garbage-after-end',
        '{"choices":[{"delta":{"content":"late-after-end"}}]}',
        '[DONE]',
        '{"done":true,"response":"late-after-end"}',
      ]);
      const events = [...a.events, { data: junk }];
      return { plan: closeFramed(a, events), expect: 'any', note: `${junk} after the end` };
    },
  },
  {
    name: 'hang-after-end',
    build(ctx) {
      const a = ctx.answer();
      const junk = a.stream && ctx.rng.chance(0.5);
      const events = junk ? [...a.events, { data: '{"choices":[{"delta":{"content":"late-after-end"}}]}' }] : a.events;
      const plan = whole(withEvents(a, events), { transfer: a.stream ? 'chunked' : 'length' });
      if (a.stream) plan.parts.pop();
      plan.ending = 'hang';
      return { plan, expect: 'ok', note: `complete answer${junk ? ', a late event' : ''}, then silence` };
    },
  },
  {
    name: 'wrong-protocol',
    build(ctx) {
      const others = (['openai', 'anthropic', 'ollama'] as const).filter((p) => p !== ctx.protocol);
      const target = ctx.rng.pick(others);
      const path = target === 'anthropic' ? '/v1/messages' : target === 'ollama' ? '/api/chat' : '/v1/chat/completions';
      const a = ctx.answer();
      const fake = { ...ctx.call, path, body: { ...(ctx.call.body as object), stream: a.stream } };
      const b = ctx.answerFor(fake);
      return { plan: whole({ ...b, contentType: a.contentType }), expect: 'any', note: `${target} answer` };
    },
  },
  {
    name: 'credential-echo',
    build: credentialEcho,
  },
  {
    name: 'header-junk',
    build(ctx) {
      const extra: [string, string][] = [
        ['set-cookie', 'session=hostile; Path=/'],
        ['x-hostile-leak', 'internal-10.0.0.7'],
        ['server', 'hostile/1.0'],
        ['x-powered-by', 'hostile'],
        ['keep-alive', 'timeout=0'],
        ['x-ratelimit-remaining-requests', '-5'],
        ['access-control-allow-origin', '*'],
      ];
      for (let i = 0; i < ctx.rng.range(0, 200); i++) extra.push([`x-hostile-${i}`, 'v'.repeat(ctx.rng.range(0, 40))]);
      return {
        plan: whole(ctx.answer(), { extraHeaders: extra }),
        expect: 'ok',
        note: `${extra.length} extra headers`,
      };
    },
  },
  {
    name: 'header-huge',
    build(ctx) {
      const size = ctx.rng.pick([8 * 1024, 17 * 1024, 80 * 1024, 1024 * 1024]);
      return {
        plan: whole(ctx.answer(), { extraHeaders: [['x-hostile-huge', 'h'.repeat(size)]] }),
        expect: 'any',
        note: `${size} byte header`,
      };
    },
  },
  {
    name: 'retry-after',
    build(ctx) {
      const status = ctx.rng.pick([429, 503, 529]);
      const value = ctx.rng.pick([
        '-1',
        '0',
        '1e308',
        'NaN',
        'Fri, 31 Dec 9999 23:59:59 GMT',
        '99999999999999999999',
        ' 5 ',
        '1.5',
        '',
      ]);
      const ms = ctx.rng.pick(['-1', '1e308', 'NaN', '86400000', '']);
      const a = ctx.answer();
      const plan = serialize({ ...a, stream: false }, Buffer.from(errorBody(ctx.protocol, status, 'slow down')), {
        status,
        contentType: 'application/json',
        transfer: 'length',
        extraHeaders: [
          ['retry-after', value],
          ['retry-after-ms', ms],
        ],
      });
      return {
        plan,
        expect: 'reject',
        note: `${status} retry-after ${JSON.stringify(value)} / ms ${JSON.stringify(ms)}`,
      };
    },
  },
  {
    name: 'stall',
    build(ctx) {
      const a = ctx.answer();
      if (!a.stream) {
        const b = body(a);
        const plan = serialize(a, b.subarray(0, Math.floor(b.length / 2)), { transfer: 'chunked' });
        plan.parts.pop();
        plan.ending = 'hang';
        return { plan, expect: 'reject', note: 'half a body, then silence' };
      }
      const at = ctx.rng.range(1, a.endAt);
      const plan = whole(withEvents(a, a.events.slice(0, at)));
      plan.parts.pop();
      plan.ending = 'hang';
      return { plan, expect: 'fail', note: `silence after ${at} events` };
    },
  },
  {
    name: 'content-encoding',
    build(ctx) {
      const enc = ctx.rng.pick(['gzip', 'br', 'deflate', 'x-hostile']);
      return { plan: whole(ctx.answer(), { extraHeaders: [['content-encoding', enc]] }), expect: 'any', note: enc };
    },
  },
];

/** Class names, in table order. */
export const CLASS_NAMES = CLASSES.map((c) => c.name);
