/**
 * The upstream-answer fuzzer's cases: every (client surface operation × upstream provider × stream/non-stream)
 * pair in turn, each answered by a hostile class picked by the seed. The request itself is valid; the marker in its
 * prompt tells the hostile upstream how to break the answer. Some clients leave mid-answer or read slowly.
 */
import { CLASS_NAMES, hostileMarker } from '../sim/hostile/index.js';
import { Rng } from '../sim/hostile/rng.js';
import { type FuzzCase, toWire } from './case.js';
import type { Behaviour } from './http-client.js';
import { hostileModel, PROVIDERS, type Provider } from './world.js';

interface Endpoint {
  path: string;
  streams: boolean;
  /** The providers it is fuzzed through (default: all). */
  providers?: readonly Provider[];
  body(model: string, text: string, stream: boolean, tools: boolean): Record<string, unknown>;
}

const TOOL_OPENAI = {
  type: 'function',
  function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
};
const TOOL_RESPONSES = { type: 'function', name: 'get_weather', parameters: TOOL_OPENAI.function.parameters };
const TOOL_ANTHROPIC = {
  name: 'get_weather',
  input_schema: { type: 'object', properties: { city: { type: 'string' } } },
};

const user = (text: string) => [{ role: 'user', content: text }];

/** The client operations, one request shape each. */
export const UPSTREAM_ENDPOINTS: Endpoint[] = [
  {
    path: '/v1/chat/completions',
    streams: true,
    body: (model, text, stream, tools) => ({
      model,
      messages: user(text),
      max_tokens: 32,
      ...(stream ? { stream, stream_options: { include_usage: text.length % 2 === 0 } } : {}),
      ...(tools ? { tools: [TOOL_OPENAI] } : {}),
    }),
  },
  {
    path: '/v1/completions',
    streams: true,
    body: (model, text, stream) => ({ model, prompt: text, max_tokens: 32, ...(stream ? { stream } : {}) }),
  },
  {
    // Through chat only: the hostile upstream has no Responses API of its own to break.
    path: '/v1/responses',
    streams: true,
    providers: ['llamacpp', 'anthropic', 'ollama'],
    body: (model, text, stream, tools) => ({
      model,
      input: text,
      max_output_tokens: 32,
      ...(stream ? { stream } : {}),
      ...(tools ? { tools: [TOOL_RESPONSES] } : {}),
    }),
  },
  { path: '/v1/embeddings', streams: false, body: (model, text) => ({ model, input: [text, 'second'] }) },
  {
    path: '/v1/rerank',
    streams: false,
    providers: ['vllm', 'llamacpp'],
    body: (model, text) => ({ model, query: text, documents: ['first', 'second', { text: 'third' }] }),
  },
  {
    path: '/v1/messages',
    streams: true,
    body: (model, text, stream, tools) => ({
      model,
      max_tokens: 32,
      messages: user(text),
      ...(stream ? { stream } : {}),
      ...(tools ? { tools: [TOOL_ANTHROPIC] } : {}),
    }),
  },
  { path: '/v1/messages/count_tokens', streams: false, body: (model, text) => ({ model, messages: user(text) }) },
  {
    path: '/api/chat',
    streams: true,
    body: (model, text, stream, tools) => ({
      model,
      messages: user(text),
      stream,
      ...(tools ? { tools: [TOOL_OPENAI] } : {}),
    }),
  },
  { path: '/api/generate', streams: true, body: (model, text, stream) => ({ model, prompt: text, stream }) },
  { path: '/api/embed', streams: false, body: (model, text) => ({ model, input: [text] }) },
  { path: '/api/embeddings', streams: false, body: (model, text) => ({ model, prompt: text }) },
];

/** Every (endpoint, provider, stream) pair. */
export const PAIRS: { endpoint: Endpoint; provider: Provider; stream: boolean }[] = UPSTREAM_ENDPOINTS.flatMap(
  (endpoint) =>
    (endpoint.providers ?? PROVIDERS).flatMap((provider) =>
      (endpoint.streams ? [false, true] : [false]).map((stream) => ({ endpoint, provider, stream })),
    ),
);

/** Classes whose answers can block an endpoint for up to a minute (upstream 429 / 503 / 529): own backends. */
const BLOCKING = new Set(['error-status', 'retry-after', 'credential-echo', 'error-garbage', 'error-first']);

/** Classes that take seconds (timeouts, big bodies) are picked less often, so a bounded run stays short. */
const SLOW = new Set(['no-answer', 'stall', 'endless-line', 'giant-line', 'header-huge', 'cut-body', 'slow']);

/** Case `index` of the upstream fuzzer for `seed`. */
export function upstreamCase(seed: number, index: number, only?: readonly string[]): FuzzCase {
  const rng = new Rng((seed * 0x9e3779b1 + index * 0x85ebca77) >>> 0);
  const pair = PAIRS[index % PAIRS.length] as (typeof PAIRS)[number];
  const pool = only && only.length > 0 ? only : CLASS_NAMES;
  let cls = rng.pick(pool);
  if (SLOW.has(cls) && pool.length > SLOW.size && rng.chance(0.6)) cls = rng.pick(pool);
  const hostileSeed = rng.int(2 ** 31);
  const id = `u${seed}-${index}`;
  const tools = rng.chance(0.3);
  const text = `Tell me something ${hostileMarker(cls, hostileSeed, id)}`;
  const model = hostileModel(pair.provider, BLOCKING.has(cls));
  const body = Buffer.from(JSON.stringify(pair.endpoint.body(model, text, pair.stream, tools)));
  const headers: [string, string][] = [
    ['host', '127.0.0.1'],
    ['content-type', 'application/json'],
    ['connection', 'close'],
  ];
  if (pair.endpoint.path.startsWith('/v1/messages')) headers.push(['anthropic-version', '2023-06-01']);
  const r = rng.float();
  const behaviour: Behaviour =
    r < 0.05
      ? { kind: 'abort-reading', bytes: rng.range(1, 600) }
      : r < 0.1
        ? { kind: 'slow-read', pauseMs: rng.range(200, 2500) }
        : { kind: 'normal' };
  return {
    tier: 'upstream',
    seed,
    index,
    id,
    cls,
    summary: `${cls}/${hostileSeed} ${pair.endpoint.path} via ${pair.provider}${pair.stream ? ' stream' : ''}${tools ? ' tools' : ''} ${behaviour.kind}`,
    method: 'POST',
    path: pair.endpoint.path,
    request: toWire({ method: 'POST', target: pair.endpoint.path, version: 'HTTP/1.1', headers, body }),
    behaviour,
    expected: 1,
    heads: [false],
    httpMalformed: false,
    control: false,
    deadlineMs: 45_000,
  };
}
