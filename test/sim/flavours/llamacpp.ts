/**
 * llama.cpp `llama-server` as of llama.cpp 0c1e570 (checked against the real server by test/real/sim-parity.test.ts):
 * OpenAI-compatible `/v1/*` (any model name is accepted: one model is loaded, answers name it by its GGUF path),
 * `/health` (`{"status":"ok"}`; 503 "Loading model" while loading, like every other path), `/metrics`, `/slots`,
 * `/props`. With an API key only `/health`, `/v1/health`, `/models` and `/v1/models` stay public.
 */
import type { Exchange } from '../exchange.js';
import { llamacppMetrics, METRICS_TYPE } from '../metrics.js';
import { llamacppProps, llamacppSlots } from './llamacpp-resources.js';
import { openaiRoutes } from './openai.js';
import { llamacppDialect } from './openai-dialect.js';
import { bearerMatches, type FlavourDef, jsonError, type Route } from './types.js';

function health(ex: Exchange): void {
  ex.json(200, { status: 'ok' });
}

async function metrics(ex: Exchange): Promise<void> {
  // The real server answers /metrics from its single task loop: it waits while a batch is decoding.
  if (ex.rt.opts.metricsBlockDuringDecode) {
    while (ex.rt.engine.running > 0) if (!(await ex.sleep(5))) return;
  }
  ex.send(200, llamacppMetrics(ex.rt), METRICS_TYPE);
}

function slots(ex: Exchange): void {
  ex.json(200, llamacppSlots(ex.rt));
}

function props(ex: Exchange): void {
  ex.json(200, llamacppProps(ex.rt));
}

const v1 = openaiRoutes(llamacppDialect);
const modelsRoute = v1.find(([k]) => k === 'GET /v1/models')![1];

const routes = new Map<string, Route>([
  ...v1,
  ['GET /health', { public: true, handler: health }],
  ['GET /v1/health', { public: true, handler: health }],
  ['GET /models', modelsRoute],
  ['GET /metrics', { handler: metrics }],
  ['GET /slots', { handler: slots }],
  ['GET /props', { handler: props }],
]);

/** The llama.cpp flavour. */
export const llamacppFlavour: FlavourDef = {
  name: 'llamacpp',
  routes,
  jsonType: 'application/json; charset=utf-8',
  baseHeaders: { server: 'llama.cpp' },
  earlyStreamHeaders: true,
  retryAfterMs: false,
  overloadStatus: 503,
  error: llamacppDialect.error,
  notFound: () => llamacppDialect.error(404, 'File Not Found'),
  promptOnlyContext: true,
  contextLengthError: (p, _c, limit) =>
    jsonError(
      400,
      {
        error: {
          code: 400,
          message: `request (${p} tokens) exceeds the available context size (${limit} tokens), try increasing it`,
          type: 'exceed_context_size_error',
          n_prompt_tokens: p,
          n_ctx: limit,
        },
      },
      'application/json; charset=utf-8',
    ),
  // llama.cpp 0c1e570 lets its JSON parser's exception through as a 500.
  badJson: () => llamacppDialect.error(500, '[json.exception.parse_error.101] parse error: syntax error while parsing'),
  authorized: (headers, key) => bearerMatches(headers, key) || headers['x-api-key'] === key,
};
