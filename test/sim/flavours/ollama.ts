/**
 * Ollama: `/api/chat`, `/api/generate` (NDJSON streaming unless `"stream": false`), `/api/embed`, `/api/embeddings`,
 * `/api/tags`, `/api/ps`, `/api/show`, `/api/version`, `GET /` ("Ollama is running"), plus the OpenAI-compatible
 * `/v1/*`. Errors are `{"error":"…"}`. Models load on first use (`loadingMs` → `load_duration`).
 */
import { createHash } from 'node:crypto';
import { embeddingDim, embeddingInputs, embedVector, MAX_EMBEDDING_DIM } from '../embeddings.js';
import type { Exchange } from '../exchange.js';
import { admitGeneration } from '../generation.js';
import type { GenerationSpec, ToolSpec } from '../output.js';
import { runStream, runUnary } from '../stream.js';
import { countTokens } from '../tokens.js';
import { type OllamaAnswer, ollamaBody, ollamaFrames } from './ollama-frames.js';
import { openaiRoutes } from './openai.js';
import { ollamaDialect } from './openai-dialect.js';
import { chatPrompt, isRecord, type Json, stopList } from './prompt.js';
import { type ErrorReply, type FlavourDef, jsonError, type Route } from './types.js';

const JSON_TYPE = 'application/json; charset=utf-8';
const NDJSON = 'application/x-ndjson';

function error(status: number, message?: string): ErrorReply {
  const msg =
    message ??
    (status === 503
      ? 'server busy, please try again.  maximum pending requests exceeded'
      : status === 401
        ? 'unauthorized'
        : 'internal error');
  return jsonError(status, { error: msg }, JSON_TYPE);
}

const tagged = (m: string) => (m.includes(':') ? m : `${m}:latest`);

/** Validates `model`; waits for the cold load. Returns the model and load time, or null after answering. */
async function loadModel(ex: Exchange, b: Json): Promise<{ model: string; loadMs: number } | null> {
  const model = b.model;
  if (typeof model !== 'string' || model === '' || !ex.rt.serves(model)) {
    const missing = typeof model !== 'string' || model === '';
    ex.reply(
      missing ? error(400, 'model is required') : error(404, `model "${model}" not found, try pulling it first`),
    );
    return null;
  }
  const key = tagged(model);
  let loadMs = 0;
  if (!ex.rt.loaded.has(key)) {
    loadMs = ex.rt.opts.loadingMs;
    if (loadMs > 0 && !(await ex.sleep(loadMs))) return null;
    ex.rt.loaded.add(key);
  }
  return { model, loadMs };
}

async function generate(ex: Exchange, kind: 'chat' | 'generate'): Promise<void> {
  const b = ex.body;
  if (!isRecord(b)) return ex.reply(error(400, 'invalid request body'));
  const loaded = await loadModel(ex, b);
  if (!loaded) return;
  const stream = b.stream !== false;
  const messages = Array.isArray(b.messages) ? b.messages : [];
  const empty = kind === 'chat' ? messages.length === 0 : typeof b.prompt !== 'string' || b.prompt === '';
  if (empty) {
    const out = kind === 'chat' ? { message: { role: 'assistant', content: '' } } : { response: '' };
    const obj = { model: loaded.model, created_at: new Date().toISOString(), ...out, done_reason: 'load', done: true };
    return ex.send(200, JSON.stringify(obj) + (stream ? '\n' : ''), stream ? NDJSON : JSON_TYPE);
  }
  const options = isRecord(b.options) ? b.options : {};
  const tools: ToolSpec[] = [];
  if (kind === 'chat' && Array.isArray(b.tools)) {
    for (const t of b.tools) {
      if (isRecord(t) && isRecord(t.function) && typeof t.function.name === 'string') {
        tools.push({ name: t.function.name, schema: t.function.parameters ?? {} });
      }
    }
  }
  // `think`: true/false, or a level (gpt-oss); asking a model that cannot think is a 400, as on Ollama.
  const think = b.think;
  if (
    think !== undefined &&
    think !== null &&
    typeof think !== 'boolean' &&
    !['low', 'medium', 'high'].includes(String(think))
  )
    return ex.reply(
      error(400, `invalid think value: "${String(think)}" (must be "high", "medium", "low", true, or false)`),
    );
  const thinking = think !== undefined && think !== null && think !== false;
  if (thinking && !ex.rt.opts.reasoning) return ex.reply(error(400, `"${loaded.model}" does not support thinking`));
  const numPredict = options.num_predict;
  const last = messages[messages.length - 1];
  const system = typeof b.system === 'string' ? b.system : undefined;
  const spec: GenerationSpec = {
    prompt:
      kind === 'chat' ? chatPrompt(messages, b.tools) : `${system ? `system: ${system}\n` : ''}${String(b.prompt)}`,
    maxTokens: Number.isInteger(numPredict) && (numPredict as number) > 0 ? (numPredict as number) : undefined,
    stop: stopList(options.stop),
    tools,
    toolChoice: 'auto',
    lastFromUser: isRecord(last) && last.role === 'user',
    choices: 1,
    toolIdPrefix: 'call_',
    reasoning: thinking,
  };
  const gen = await admitGeneration(ex, spec, loaded.model, stream ? NDJSON : null);
  if (!gen) return;
  const answer: OllamaAnswer = {
    kind,
    model: loaded.model,
    plan: gen.plans[0]!,
    promptTokens: gen.promptTokens,
    outputTokens: gen.outputTokens,
    loadMs: loaded.loadMs,
    ex,
  };
  if (stream) await runStream(ex, gen, NDJSON, ollamaFrames(answer));
  else await runUnary(ex, gen, () => ollamaBody(answer));
}

async function embed(ex: Exchange, legacy: boolean): Promise<void> {
  const b = ex.body;
  if (!isRecord(b)) return ex.reply(error(400, 'invalid request body'));
  const loaded = await loadModel(ex, b);
  if (!loaded) return;
  const inputs = legacy ? (typeof b.prompt === 'string' ? [b.prompt] : null) : embeddingInputs(b.input ?? '');
  if (!inputs) return ex.reply(error(400, legacy ? 'prompt is required' : 'invalid input type'));
  const dim = embeddingDim(b.dimensions, ex.rt.opts.embeddingDim);
  if (dim === null) return ex.reply(error(400, `dimensions must be between 1 and ${MAX_EMBEDDING_DIM}`));
  if (ex.fault?.resetAfterChunks !== undefined) return ex.reset();
  const embeddings = inputs.map((t) => embedVector(t, dim));
  if (legacy) return ex.json(200, { embedding: embeddings[0] });
  const tokens = inputs.reduce((n, t) => n + countTokens(t), 0);
  ex.rt.counters.tokensIn += tokens;
  const total = Math.round((performance.now() - ex.start) * 1e6);
  ex.json(200, {
    model: loaded.model,
    embeddings,
    total_duration: total,
    load_duration: Math.round(loaded.loadMs * 1e6),
    prompt_eval_count: tokens,
  });
}

function modelEntry(name: string): Json {
  const digest = createHash('sha256').update(name).digest('hex');
  const details = {
    parent_model: '',
    format: 'gguf',
    family: 'llama',
    families: ['llama'],
    parameter_size: '3.2B',
    quantization_level: 'Q4_K_M',
  };
  return { name, model: name, modified_at: '2025-01-01T00:00:00Z', size: 2019393189, digest, details };
}

function tags(ex: Exchange): void {
  ex.json(200, { models: ex.rt.opts.models.map((m) => modelEntry(tagged(m))) });
}

function ps(ex: Exchange): void {
  const expires = new Date(Date.now() + 300_000).toISOString();
  const models = [...ex.rt.loaded].map((m) => ({ ...modelEntry(m), expires_at: expires, size_vram: 2019393189 }));
  ex.json(200, { models });
}

function show(ex: Exchange): void {
  const b = isRecord(ex.body) ? ex.body : {};
  const name = typeof b.model === 'string' ? b.model : typeof b.name === 'string' ? b.name : '';
  if (!ex.rt.serves(name)) {
    ex.reply(error(404, `model '${name}' not found`));
    return;
  }
  const entry = modelEntry(tagged(name));
  ex.json(200, {
    modelfile: `FROM ${tagged(name)}`,
    parameters: '',
    template: '{{ .Prompt }}',
    details: entry.details,
    model_info: { 'general.architecture': 'llama', 'llama.context_length': ex.rt.opts.maxModelLen },
    capabilities: ['completion', 'tools'],
    modified_at: entry.modified_at,
  });
}

const routes = new Map<string, Route>([
  ...openaiRoutes(ollamaDialect),
  ['GET /', { public: true, handler: (ex) => ex.send(200, 'Ollama is running', 'text/plain; charset=utf-8') }],
  ['HEAD /', { public: true, handler: (ex) => ex.send(200, '', 'text/plain; charset=utf-8') }],
  ['GET /api/version', { public: true, handler: (ex) => ex.json(200, { version: '0.12.6' }) }],
  ['POST /api/chat', { handler: (ex) => generate(ex, 'chat'), inference: true }],
  ['POST /api/generate', { handler: (ex) => generate(ex, 'generate'), inference: true }],
  ['POST /api/embed', { handler: (ex) => embed(ex, false), inference: true }],
  ['POST /api/embeddings', { handler: (ex) => embed(ex, true), inference: true }],
  ['GET /api/tags', { handler: tags }],
  ['GET /api/ps', { handler: ps }],
  ['POST /api/show', { handler: show }],
]);

/** The Ollama flavour. */
export const ollamaFlavour: FlavourDef = {
  name: 'ollama',
  routes,
  jsonType: JSON_TYPE,
  baseHeaders: {},
  earlyStreamHeaders: false,
  retryAfterMs: false,
  overloadStatus: 503,
  error: (status, message) => error(status, message),
  notFound: () => ({ status: 404, body: '404 page not found', contentType: 'text/plain' }),
  contextLengthError: (p, _c, limit) => error(400, `input length ${p} exceeds maximum context length ${limit}`),
  authorized: (headers, key) => headers.authorization === `Bearer ${key}`,
};
