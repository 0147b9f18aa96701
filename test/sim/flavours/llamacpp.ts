/**
 * llama.cpp `llama-server`: OpenAI-compatible `/v1/*` (any model name is accepted: one model is loaded),
 * `/health` (`{"status":"ok"}`; 503 "Loading model" while loading, like every other path), `/metrics`, `/slots`,
 * `/props`. With an API key only `/health`, `/v1/health`, `/models` and `/v1/models` stay public.
 */
import type { Exchange } from '../exchange.js';
import { llamacppMetrics, METRICS_TYPE } from '../metrics.js';
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
  const rt = ex.rt;
  const nCtx = Math.floor(rt.opts.maxModelLen / rt.opts.maxConcurrency);
  const out = rt.engine.slots.map((lease, id) => ({
    id,
    id_task: lease ? id + 1 : -1,
    n_ctx: nCtx,
    speculative: false,
    is_processing: lease !== null,
    params: { n_predict: -1, temperature: 0.8, top_k: 40, top_p: 0.95, stream: true },
    prompt: '',
    next_token: {
      has_next_token: lease !== null,
      has_new_line: false,
      n_remain: lease ? Math.max(0, lease.job.outputTokens - lease.decoded) : -1,
      n_decoded: lease?.decoded ?? 0,
      stopping_word: '',
    },
  }));
  ex.json(200, out);
}

function props(ex: Exchange): void {
  const rt = ex.rt;
  ex.json(200, {
    default_generation_settings: { n_ctx: Math.floor(rt.opts.maxModelLen / rt.opts.maxConcurrency) },
    total_slots: rt.opts.maxConcurrency,
    model_path: `/models/${rt.opts.models[0]}.gguf`,
    chat_template: '',
    build_info: 'b6000-sim',
  });
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
  contextLengthError: (p, _c, limit) =>
    jsonError(
      400,
      {
        error: {
          code: 400,
          message: 'the request exceeds the available context size, try increasing it',
          type: 'exceed_context_size_error',
          n_prompt_tokens: p,
          n_ctx: limit,
        },
      },
      'application/json; charset=utf-8',
    ),
  authorized: (headers, key) => bearerMatches(headers, key) || headers['x-api-key'] === key,
};
