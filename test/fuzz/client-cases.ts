/**
 * The client-side mutation fuzzer's cases. Each starts from a valid request to one endpoint of one surface (OpenAI
 * chat / completions / embeddings / models / responses / rerank, Anthropic messages / count_tokens / models, Ollama chat / generate /
 * embed / embeddings / show / tags / ps / version / root) for a model served by one upstream kind, then applies a
 * few seeded mutation steps: to the JSON (types, nesting, sizes, unicode, numbers, keys), to the bytes (cuts,
 * flipped bytes, invalid UTF-8, padding, other formats, oversize), to the head (content type and encoding, framing,
 * credentials, request ids, huge or many or broken headers, methods, paths, versions), and to the client's
 * behaviour (partial bodies, aborts, slow sending, slow reading, pipelining). Steps draw from their own seeds, so
 * dropping one leaves the others unchanged: that is how a failing case is shrunk.
 */
import { gzipSync } from 'node:zlib';
import { Rng } from '../sim/hostile/rng.js';
import { type FuzzCase, toWire, type WireRequest } from './case.js';
import type { Behaviour } from './http-client.js';
import { surfaceOf } from './invariants.js';
import {
  deepValue,
  deleteAt,
  EDGE_NUMBERS,
  EDGE_STRINGS,
  paths,
  RawJson,
  randomValue,
  setAt,
  type Value,
  writeJson,
} from './values.js';
import { AUTH_MODEL, CACHE_MODEL, PROVIDERS, type Provider, simModel, TENANT_KEY } from './world.js';

interface Endpoint {
  method: 'GET' | 'POST' | 'HEAD';
  path: string;
  /** Providers for which the unmutated request must succeed. */
  serves: readonly Provider[];
  body?(model: string, rng: Rng): Record<string, Value>;
}

const ALL = PROVIDERS;
const EMBEDS: Provider[] = ['vllm', 'llamacpp', 'openai', 'ollama'];
const user = (text: string): Value => [{ role: 'user', content: text }];
const TOOL: Value = {
  type: 'function',
  function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } },
};

/** Optional fields a valid request may carry, per surface. */
function openaiExtras(rng: Rng): Record<string, Value> {
  const out: Record<string, Value> = {};
  if (rng.chance(0.3)) out.temperature = 0;
  if (rng.chance(0.2)) out.stop = ['\n\n'];
  if (rng.chance(0.2)) out.tools = [TOOL];
  if (rng.chance(0.1)) out.user = 'fuzzer';
  if (rng.chance(0.2)) {
    out.stream = true;
    if (rng.chance(0.5)) out.stream_options = { include_usage: true };
  }
  return out;
}

const ENDPOINTS: Endpoint[] = [
  {
    method: 'POST',
    path: '/v1/chat/completions',
    serves: ALL,
    body: (model, rng) => ({ model, messages: user('Hello there'), max_tokens: 8, ...openaiExtras(rng) }),
  },
  {
    method: 'POST',
    path: '/v1/completions',
    serves: ALL,
    body: (model, rng) => ({ model, prompt: 'Once upon', max_tokens: 8, ...(rng.chance(0.3) ? { stream: true } : {}) }),
  },
  {
    method: 'POST',
    path: '/v1/embeddings',
    serves: EMBEDS,
    body: (model, rng) => ({ model, input: rng.chance(0.5) ? 'embed me' : ['a', 'b'] }),
  },
  { method: 'GET', path: '/v1/models', serves: ALL },
  { method: 'GET', path: '/v1/models/fz-vllm', serves: ALL },
  {
    method: 'POST',
    path: '/v1/messages',
    serves: ALL,
    body: (model, rng) => ({
      model,
      max_tokens: 8,
      messages: user('Hello Claude'),
      ...(rng.chance(0.3) ? { system: 'Be brief.' } : {}),
      ...(rng.chance(0.3) ? { stream: true } : {}),
    }),
  },
  {
    method: 'POST',
    path: '/v1/messages/count_tokens',
    serves: ALL,
    body: (model) => ({ model, messages: user('count me') }),
  },
  {
    method: 'POST',
    path: '/api/chat',
    serves: ALL,
    body: (model, rng) => ({
      model,
      messages: user('Why is the sky blue?'),
      stream: rng.chance(0.5),
      options: { num_predict: 8 },
    }),
  },
  {
    method: 'POST',
    path: '/api/generate',
    serves: ALL,
    body: (model, rng) => ({ model, prompt: 'Why?', stream: rng.chance(0.5), options: { num_predict: 8 } }),
  },
  { method: 'POST', path: '/api/embed', serves: EMBEDS, body: (model) => ({ model, input: ['a', 'b'] }) },
  { method: 'POST', path: '/api/embeddings', serves: EMBEDS, body: (model) => ({ model, prompt: 'a' }) },
  { method: 'POST', path: '/api/show', serves: ALL, body: (model) => ({ model }) },
  { method: 'GET', path: '/api/tags', serves: ALL },
  { method: 'GET', path: '/api/ps', serves: ALL },
  { method: 'GET', path: '/api/version', serves: ALL },
  { method: 'GET', path: '/', serves: ALL },
  { method: 'HEAD', path: '/', serves: ALL },
  {
    method: 'POST',
    path: '/v1/responses',
    serves: ALL,
    body: (model, rng) => ({
      model,
      input: rng.chance(0.5) ? 'Hello there' : user('Hello there'),
      max_output_tokens: 8,
      ...(rng.chance(0.3) ? { stream: true } : {}),
    }),
  },
  {
    // Strings only: llama.cpp refuses `{text}` documents itself (vLLM takes both).
    method: 'POST',
    path: '/v1/rerank',
    serves: ['vllm', 'llamacpp'],
    body: (model, rng) => ({ model, query: 'sky', documents: ['blue sky', 'green grass'], top_n: rng.range(1, 3) }),
  },
];

/** A request under construction. */
interface Draft {
  wire: WireRequest;
  json: Value | undefined;
  /** Set once the body has become bytes (byte-level steps); JSON steps then do nothing. */
  bytes: Buffer | undefined;
  behaviour: Behaviour;
  httpMalformed: boolean;
  /** Bytes of a second request written on the same connection. */
  pipelined: Buffer | undefined;
  heads: boolean[];
  /** Target of the pipelined request. */
  secondTarget?: string;
  /** Chunked transfer coding applied to the final body bytes (after every byte-level step). */
  chunked: { size: number; ending: 'last-chunk' | 'bad-size' | 'none' } | undefined;
  deadlineMs: number;
}

type Step = (d: Draft, rng: Rng) => void;

const header = (d: Draft, name: string, value: string) => {
  d.wire.headers = d.wire.headers.filter(([k]) => k.toLowerCase() !== name);
  d.wire.headers.push([name, value]);
};
const bodyBytes = (d: Draft): Buffer => {
  d.bytes ??= d.json === undefined ? Buffer.alloc(0) : Buffer.from(writeJson(d.json));
  return d.bytes;
};
const jsonPaths = (d: Draft) => (d.json === undefined || d.bytes ? [] : paths(d.json));
const pickPath = (d: Draft, rng: Rng, want?: (v: unknown) => boolean) => {
  const all = jsonPaths(d);
  const fit = want
    ? all.filter((p) => {
        let cur: unknown = d.json;
        for (const s of p) cur = (cur as Record<string | number, unknown>)[s];
        return want(cur);
      })
    : all;
  return fit.length > 0 ? rng.pick(fit) : undefined;
};
const setField = (d: Draft, key: string, v: Value) => {
  if (
    d.json !== null &&
    typeof d.json === 'object' &&
    !Array.isArray(d.json) &&
    !(d.json instanceof RawJson) &&
    !d.bytes
  )
    (d.json as Record<string, Value>)[key] = v;
};
const FIELDS = [
  'model',
  'messages',
  'prompt',
  'input',
  'stream',
  'stream_options',
  'max_tokens',
  'max_completion_tokens',
  'n',
  'temperature',
  'tools',
  'tool_choice',
  'response_format',
  'system',
  'stop',
  'options',
  'format',
  'images',
  'metadata',
  'logprobs',
  'top_logprobs',
  'encoding_format',
  'dimensions',
  'keep_alive',
  '__proto__',
  'constructor',
];

/** Mutation steps by name. */
const STEPS: Record<string, Step> = {
  'replace-value': (d, rng) => {
    const p = pickPath(d, rng);
    if (p) setAt(d.json as Value, p, randomValue(rng));
  },
  'delete-key': (d, rng) => {
    const p = pickPath(d, rng);
    if (p) deleteAt(d.json as Value, p);
  },
  'set-field': (d, rng) => setField(d, rng.pick(FIELDS), randomValue(rng)),
  'huge-string': (d, rng) => {
    const p = pickPath(d, rng, (v) => typeof v === 'string');
    const size = rng.pick([70_000, 1_000_000, 4_000_000]);
    if (p) setAt(d.json as Value, p, rng.chance(0.5) ? 'A'.repeat(size) : '漢'.repeat(size / 3));
  },
  'huge-array': (d, rng) => {
    const p = pickPath(d, rng, Array.isArray);
    const n = rng.pick([1000, 20_000, 200_000]);
    const item: Value = rng.chance(0.5) ? { role: 'user', content: 'x' } : 1;
    if (p) setAt(d.json as Value, p, new RawJson(`[${Array(n).fill(writeJson(item)).join(',')}]`));
  },
  'deep-nesting': (d, rng) => {
    const p = pickPath(d, rng) ?? [];
    const v = deepValue(rng.pick([100, 1000, 10_000, 100_000]), rng.chance(0.5));
    if (p.length > 0) setAt(d.json as Value, p, v);
    else d.json = v;
  },
  unicode: (d, rng) => {
    const p = pickPath(d, rng, (v) => typeof v === 'string');
    if (p) setAt(d.json as Value, p, rng.pick(EDGE_STRINGS));
  },
  'edge-number': (d, rng) => {
    const field = rng.pick(['max_tokens', 'temperature', 'n', 'top_p', 'dimensions', 'top_logprobs', 'seed']);
    const p = pickPath(d, rng, (v) => typeof v === 'number');
    const v = new RawJson(rng.pick(EDGE_NUMBERS));
    if (p && rng.chance(0.5)) setAt(d.json as Value, p, v);
    else setField(d, field, v);
  },
  'model-name': (d, rng) => {
    const v: Value = rng.pick<Value>([
      'm'.repeat(rng.pick([300, 100_000, 5_000_000])),
      '',
      ' fz-vllm',
      'FZ-VLLM',
      'fz-vll',
      'fz-vllm\n',
      // Another pool's model, of a well-behaved upstream (the hostile ones answer what they like: 502s are right).
      simModel('ollama'),
      AUTH_MODEL,
      CACHE_MODEL,
      'no-such-model',
      '\u001b[2J',
      '../../etc/passwd',
      '😀',
      7,
      null,
      ['fz-vllm'],
      { name: 'fz-vllm' },
    ]);
    setField(d, 'model', v);
  },
  messages: (d, rng) => {
    const variants: Value[] = [
      [],
      new RawJson(`[${Array(5000).fill('{"role":"user","content":"hi"}').join(',')}]`),
      [{ role: 'robot', content: 'x' }],
      [{ role: 'user', content: null }],
      [{ role: 'user' }],
      [{ role: 'system', content: 'x' }],
      [
        {
          role: 'user',
          content: [{ type: 'image_url', image_url: { url: `data:image/png;base64,${'A'.repeat(5000)}` } }],
        },
      ],
      [
        {
          role: 'user',
          content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: '%%%' } }],
        },
      ],
      [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'x', content: 'y' }] }],
      [
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{' } }],
        },
      ],
      [{ role: 'tool', content: 'result', tool_call_id: 'nope' }],
      [
        { role: 'user', content: [{ type: 'text' }] },
        { role: 'user', content: [{ type: 'mystery', x: 1 }] },
      ],
      [{ role: 'user', content: 'hi', images: ['not base64!'] }],
      [{ role: 'user', content: '[sim output-tokens=3000]' }],
    ];
    setField(d, 'messages', rng.pick(variants));
  },
  'stream-flag': (d, rng) => {
    setField(d, 'stream', rng.pick<Value>([true, false, 'true', 1, null, {}]));
    if (rng.chance(0.5))
      setField(d, 'stream_options', rng.pick<Value>([{ include_usage: true }, { include_usage: 'yes' }, null, 5, []]));
  },
  'duplicate-key': (d) => {
    const b = bodyBytes(d).toString('utf8');
    if (b.startsWith('{')) d.bytes = Buffer.from(`{"model":"fz-anthropic","stream":true,${b.slice(1)}`);
  },
  'trailing-garbage': (d, rng) => {
    d.bytes = Buffer.concat([bodyBytes(d), Buffer.from(rng.pick(['x', '{}', ' {"model":"fz-vllm"}', '\u0000', ']']))]);
  },
  truncate: (d, rng) => {
    const b = bodyBytes(d);
    d.bytes = b.subarray(0, rng.int(Math.max(1, b.length)));
  },
  'flip-bytes': (d, rng) => {
    const b = Buffer.from(bodyBytes(d));
    for (let i = 0; i < rng.range(1, 5) && b.length > 0; i++) b[rng.int(b.length)] = rng.int(256);
    d.bytes = b;
  },
  'invalid-utf8': (d, rng) => {
    const b = bodyBytes(d);
    const at = Math.max(0, b.indexOf('"', Math.floor(b.length / 2)) + 1);
    const bad = Buffer.from(rng.pick([[0xff], [0xc0, 0xaf], [0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80]]));
    d.bytes = Buffer.concat([b.subarray(0, at), bad, b.subarray(at)]);
  },
  bom: (d, rng) => {
    d.bytes = Buffer.concat([
      Buffer.from(
        rng.pick([
          [0xef, 0xbb, 0xbf],
          [0xff, 0xfe],
          [0xfe, 0xff],
        ]),
      ),
      bodyBytes(d),
    ]);
  },
  'whitespace-pad': (d, rng) => {
    const pad = Buffer.alloc(rng.pick([1000, 1_000_000]), rng.pick([' ', '\n', '\t']));
    d.bytes = Buffer.concat([pad, bodyBytes(d), pad]);
  },
  'not-json': (d, rng) => {
    d.bytes = Buffer.from(
      rng.pick([
        '',
        'model=fz-vllm&prompt=hi',
        '<?xml version="1.0"?><req/>',
        '\u0000\u0001\u0002',
        'null',
        '"string"',
        '[]',
        '12',
        '{"a":',
      ]),
    );
  },
  oversize: (d) => {
    d.bytes = Buffer.from(`{"model":"fz-vllm","prompt":"${'x'.repeat(10 * 1024 * 1024 + 10)}"}`);
  },
  gzip: (d, rng) => {
    header(d, 'content-encoding', 'gzip');
    d.bytes = rng.chance(0.5) ? gzipSync(bodyBytes(d)) : bodyBytes(d);
  },
  'content-type': (d, rng) =>
    header(
      d,
      'content-type',
      rng.pick([
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/json; charset=latin1',
        'application/json; charset=utf-16',
        'application/json, text/plain',
        ';;;',
        '',
        'application/xml',
      ]),
    ),
  'no-content-type': (d) => {
    d.wire.headers = d.wire.headers.filter(([k]) => k !== 'content-type');
  },
  'content-encoding': (d, rng) =>
    header(d, 'content-encoding', rng.pick(['br', 'deflate', 'gzip, gzip', 'identity', 'x'])),
  'content-length': (d, rng) => {
    // A length that is not the body's makes the rest of the bytes (or the next request) a malformed request.
    d.httpMalformed = true;
    const n = bodyBytes(d).length;
    const v = rng.int(4);
    if (v === 0 && n > 1) header(d, 'content-length', String(rng.int(n)));
    else if (v === 1) {
      header(d, 'content-length', String(n + rng.range(1, 1000)));
      d.behaviour = { kind: 'partial-wait', bytes: Number.MAX_SAFE_INTEGER };
    } else header(d, 'content-length', rng.pick(['-1', 'abc', '1e3', `${n}, ${n + 1}`, ' ']));
  },
  chunked: (d, rng) => {
    header(d, 'transfer-encoding', 'chunked');
    const ending = rng.pick(['last-chunk', 'last-chunk', 'bad-size', 'none'] as const);
    d.chunked = { size: rng.range(1, 512), ending };
    if (ending !== 'last-chunk') d.httpMalformed = true;
    if (ending === 'none') d.behaviour = { kind: 'partial-wait', bytes: Number.MAX_SAFE_INTEGER };
  },
  authorization: (d, rng) => {
    const v = rng.int(7);
    if (v === 0) header(d, 'authorization', `Bearer ${TENANT_KEY}`);
    else if (v === 1) header(d, 'authorization', 'Bearer ');
    else if (v === 2) header(d, 'authorization', `Bearer ${'k'.repeat(rng.pick([200, 9000]))}`);
    else if (v === 3) header(d, 'x-api-key', rng.pick([TENANT_KEY, 'wrong', '', TENANT_KEY.slice(0, -1)]));
    else if (v === 4) header(d, 'authorization', 'Basic Zm9vOmJhcg==');
    else if (v === 5) header(d, 'authorization', `Bearer ${TENANT_KEY.slice(0, 20)}\u00e9`);
    else d.wire.headers.push(['authorization', 'Bearer a'], ['authorization', 'Bearer b']);
  },
  'anthropic-version': (d, rng) => header(d, 'anthropic-version', rng.pick(['', 'x', '9999-99-99', 'v'.repeat(5000)])),
  'request-id': (d, rng) =>
    header(d, 'x-request-id', rng.pick(['ok-id-1', 'bad id with spaces', 'r'.repeat(5000), '../x', ''])),
  'many-headers': (d, rng) => {
    for (let i = 0; i < rng.pick([100, 1000, 3000]); i++) d.wire.headers.push([`x-fuzz-${i}`, 'v']);
    d.httpMalformed = true;
  },
  'huge-header': (d, rng) => {
    header(d, rng.pick(['x-fuzz', 'cookie', 'user-agent']), 'h'.repeat(rng.pick([8000, 20_000, 100_000])));
    d.httpMalformed = true;
  },
  'bad-header': (d, rng) => {
    d.wire.headers.push(
      rng.pick<[string, string]>([
        ['bad name', 'x'],
        ['x-a', 'a\u0000b'],
        ['x-fold', 'a\r\n b'],
        ['', 'x'],
        ['x-é', 'v'],
      ]),
    );
    d.httpMalformed = true;
  },
  'expect-continue': (d) => header(d, 'expect', '100-continue'),
  host: (d, rng) => {
    const v = rng.int(3);
    if (v === 0) d.wire.headers = d.wire.headers.filter(([k]) => k !== 'host');
    else if (v === 1) d.wire.headers.push(['host', 'other.example']);
    else header(d, 'host', 'h'.repeat(3000));
    d.httpMalformed = true;
  },
  upgrade: (d, rng) => {
    header(d, 'connection', 'upgrade');
    header(d, 'upgrade', rng.pick(['h2c', 'websocket']));
    d.httpMalformed = true;
  },
  method: (d, rng) => {
    d.wire.method = rng.pick(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'FOO', 'get', 'POST']);
    d.heads[0] = d.wire.method === 'HEAD';
    d.httpMalformed = true;
  },
  path: (d, rng) => {
    const t = d.wire.target;
    d.wire.target = rng.pick([
      `${t}/`,
      `/${t}`,
      t.replace(/^\/(v1|api)\//, '/$1%2F'),
      `${t}%ZZ`,
      `${t}%00`,
      `${t}?${'q'.repeat(rng.pick([100, 8000, 70_000]))}=1`,
      `/v1/../api/chat`,
      `http://127.0.0.1${t}`,
      '*',
      `${t}/\u00e9`,
      t.toUpperCase(),
      `${t}#frag`,
    ]);
    d.httpMalformed = true;
  },
  'http-version': (d, rng) => {
    d.wire.version = rng.pick(['HTTP/1.0', 'HTTP/2.0', 'HTTP/9.9', 'HTTP/1.1 extra', 'FOO/1.1']);
    d.httpMalformed = true;
  },
  'partial-abort': (d, rng) => {
    d.behaviour = { kind: 'partial-abort', bytes: rng.range(1, 400), afterMs: rng.range(0, 300) };
  },
  'partial-wait': (d, rng) => {
    d.behaviour = { kind: 'partial-wait', bytes: rng.range(1, 400) };
  },
  'slow-send': (d, rng) => {
    d.behaviour = { kind: 'slow-send', piece: rng.range(1, 64), delayMs: rng.range(1, 10) };
  },
  'abort-reading': (d, rng) => {
    setField(d, 'messages', user('[sim output-tokens=2000]'));
    d.behaviour = { kind: 'abort-reading', bytes: rng.range(1, 2000) };
  },
  'slow-read': (d, rng) => {
    setField(d, 'messages', user('[sim output-tokens=4000]'));
    setField(d, 'max_tokens', 4000);
    d.behaviour = { kind: 'slow-read', pauseMs: rng.range(500, 3000) };
  },
  pipelined: (d, rng) => {
    const surface = surfaceOf(d.wire.target);
    const second = rng.pick(ENDPOINTS.filter((e) => surfaceOf(e.path) === surface));
    const body = second.body ? Buffer.from(writeJson(second.body(simModel('vllm'), rng))) : Buffer.alloc(0);
    d.secondTarget = second.path;
    d.pipelined = toWire({
      method: second.method,
      target: second.path,
      version: 'HTTP/1.1',
      headers: [
        ['host', '127.0.0.1'],
        ['content-type', 'application/json'],
        ['connection', 'close'],
      ],
      body,
    });
    d.heads[1] = second.method === 'HEAD';
    header(d, 'connection', 'keep-alive');
  },
};

/** `b` in chunked transfer coding with pieces of `size` bytes, ended as `ending` says. */
function chunkedBody(b: Buffer, o: NonNullable<Draft['chunked']>): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < b.length; i += o.size) {
    const c = b.subarray(i, i + o.size);
    parts.push(Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n'));
  }
  if (o.ending === 'last-chunk') parts.push(Buffer.from('0\r\n\r\n'));
  if (o.ending === 'bad-size') parts.push(Buffer.from('zz\r\n'));
  return Buffer.concat(parts);
}

/** Mutation names, in a fixed order (the seed picks among them). */
export const MUTATIONS = Object.keys(STEPS);

/** How many cases in 1,000 are unmutated controls (they must succeed). */
const CONTROLS_PER_MILLE = 40;

interface Plan {
  endpoint: Endpoint;
  provider: Provider;
  model: string;
  baseSeed: number;
  steps: { name: string; seed: number }[];
}

function planCase(seed: number, index: number, only?: readonly string[]): Plan {
  const rng = new Rng((seed * 0x27d4eb2f + index * 0x165667b1 + 7) >>> 0);
  const endpoint = ENDPOINTS[index % ENDPOINTS.length] as Endpoint;
  const provider = rng.pick(PROVIDERS);
  const r = rng.float();
  const model = r < 0.1 ? AUTH_MODEL : r < 0.15 ? CACHE_MODEL : r < 0.18 ? 'no-such-model' : simModel(provider);
  const baseSeed = rng.int(2 ** 31);
  const control = rng.int(1000) < CONTROLS_PER_MILLE && endpoint.serves.includes(provider) && !only?.length;
  const pool = only && only.length > 0 ? only : MUTATIONS;
  const steps = control
    ? []
    : Array.from({ length: rng.chance(0.6) ? 1 : rng.range(2, 4) }, () => ({
        name: rng.pick(pool),
        seed: rng.int(2 ** 31),
      }));
  return { endpoint, provider, model, baseSeed, steps };
}

/** How client cases are made for one run. */
export interface ClientCaseOptions {
  /** Restrict the mutation steps to these names. */
  only?: readonly string[];
  /** The proxy's body read timeout: a client that stops sending must be answered within it (plus slack). */
  bodyTimeoutMs?: number;
}

function build(seed: number, index: number, plan: Plan, o: ClientCaseOptions): FuzzCase {
  const { endpoint, model } = plan;
  const baseRng = new Rng(plan.baseSeed);
  const headers: [string, string][] = [
    ['host', '127.0.0.1'],
    ['connection', 'close'],
  ];
  if (endpoint.body) headers.push(['content-type', 'application/json']);
  if (endpoint.path.startsWith('/v1/messages')) headers.push(['anthropic-version', '2023-06-01']);
  if (model === AUTH_MODEL) headers.push(['authorization', `Bearer ${TENANT_KEY}`]);
  const d: Draft = {
    wire: { method: endpoint.method, target: endpoint.path, version: 'HTTP/1.1', headers, body: Buffer.alloc(0) },
    // A copy: steps change the tree in place, and shared parts (the tool definition) must stay as they are.
    json: endpoint.body ? structuredClone(endpoint.body(model, baseRng) as Value) : undefined,
    bytes: undefined,
    behaviour: { kind: 'normal' },
    httpMalformed: false,
    pipelined: undefined,
    chunked: undefined,
    heads: [endpoint.method === 'HEAD'],
    deadlineMs: 30_000,
  };
  for (const s of plan.steps) (STEPS[s.name] as Step)(d, new Rng(s.seed));
  d.wire.body = d.chunked ? chunkedBody(bodyBytes(d), d.chunked) : bodyBytes(d);
  if (d.chunked) d.wire.headers = d.wire.headers.filter(([k]) => k !== 'content-length');
  let request = toWire(d.wire);
  const firstLength = request.length;
  if (d.pipelined) request = Buffer.concat([request, d.pipelined]);
  if (d.behaviour.kind === 'slow-send') {
    // At most ~150 writes (~1.5 s): a slow client within the read timeouts, not one that stops.
    const piece = Math.max(d.behaviour.piece, Math.ceil(request.length / 150));
    d.behaviour = { ...d.behaviour, piece };
  }
  if (d.behaviour.kind === 'partial-wait') {
    d.behaviour = { kind: 'partial-wait', bytes: Math.min(d.behaviour.bytes, request.length) };
    d.deadlineMs = (o.bodyTimeoutMs ?? 30_000) + 15_000;
  }
  const names = plan.steps.map((s) => s.name);
  return {
    tier: 'client',
    seed,
    index,
    id: `c${seed}-${index}`,
    cls: names[0] ?? 'control',
    summary: `${d.wire.method} ${endpoint.path} ${model} [${names.join(', ') || 'control'}]`,
    method: d.wire.method,
    path: d.wire.target,
    ...(d.secondTarget ? { morePaths: [d.secondTarget] } : {}),
    request,
    behaviour: d.behaviour,
    // Node stops parsing a connection after a request asking for an Upgrade: what was pipelined behind it is not read.
    // A partial send that stops at the end of the first request leaves nothing of the second to answer: the
    // connection is then an idle kept-alive one (closed after the keep-alive timeout), not a hung request.
    expected:
      d.pipelined &&
      !d.wire.headers.some(([k]) => k === 'upgrade') &&
      !(d.behaviour.kind === 'partial-wait' && d.behaviour.bytes <= firstLength)
        ? 2
        : 1,
    heads: d.heads,
    httpMalformed: d.httpMalformed,
    control: plan.steps.length === 0 && model !== 'no-such-model',
    deadlineMs: d.deadlineMs,
    shrink: () =>
      plan.steps.map((_, i) => build(seed, index, { ...plan, steps: plan.steps.filter((__, j) => j !== i) }, o)),
  };
}

/** Case `index` of the client fuzzer for `seed`. */
export function clientCase(seed: number, index: number, o: ClientCaseOptions = {}): FuzzCase {
  return build(seed, index, planCase(seed, index, o.only), o);
}
