/**
 * vLLM's OpenAI-compatible server (`vllm serve`): `/v1/*`, `/health` (200, empty body), `/metrics`, `/version`,
 * `/ping`. `--api-key` guards `/v1/*` only. Stream headers go out before the first token.
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
  ['GET /version', { public: true, handler: (ex) => ex.json(200, { version: '0.11.0' }) }],
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
  contextLengthError: (p, c, limit) =>
    vllmDialect.error(
      400,
      `This model's maximum context length is ${limit} tokens. However, you requested ${p + c} tokens ` +
        `(${p} in the messages, ${c} in the completion). Please reduce the length of the messages or completion.`,
    ),
  authorized: bearerMatches,
};
