/**
 * vLLM's OpenAI-compatible server (`vllm serve`) as of vLLM 0.34.0 (sources per behaviour in test/sim/README.md):
 * `/v1/*`, `/health` (200, empty body), `/metrics`, `/version`, `/ping`. `--api-key` guards `/v1/*` only. Stream
 * headers go out before the first token.
 */
import { METRICS_TYPE, vllmMetrics } from '../metrics.js';
import { openaiRoutes } from './openai.js';
import { vllmDialect } from './openai-dialect.js';
import { bearerMatches, type FlavourDef, jsonError, type Route } from './types.js';

const routes = new Map<string, Route>([
  ...openaiRoutes(vllmDialect),
  ['GET /health', { public: true, handler: (ex) => ex.send(200, '', '') }],
  ['GET /ping', { public: true, handler: (ex) => ex.send(200, '', '') }],
  ['POST /ping', { public: true, handler: (ex) => ex.send(200, '', '') }],
  ['GET /version', { public: true, handler: (ex) => ex.json(200, { version: '0.34.0' }) }],
  [
    'GET /metrics',
    { public: true, whileLoading: true, handler: (ex) => ex.send(200, vllmMetrics(ex.rt), METRICS_TYPE) },
  ],
]);

/** The vLLM flavour. */
export const vllmFlavour: FlavourDef = {
  name: 'vllm',
  routes,
  jsonType: 'application/json',
  baseHeaders: { server: 'uvicorn' },
  earlyStreamHeaders: true,
  retryAfterMs: false,
  overloadStatus: 503,
  error: vllmDialect.error,
  notFound: () => jsonError(404, { detail: 'Not Found' }),
  promptOnlyContext: true,
  contextLengthError: (p, _c, limit) =>
    vllmDialect.error(
      400,
      `This model's maximum context length is ${limit} tokens. However, your prompt contains ${p} input tokens, ` +
        'which exceeds this limit even without any output tokens. Please reduce the length of the input prompt.',
      'input_tokens',
    ),
  authorized: bearerMatches,
};
