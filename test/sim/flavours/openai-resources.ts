/** OpenAI-compatible `/v1/embeddings` and `/v1/models`, and the model check shared with generation. */
import { embeddingDim, embeddingInputs, embedVector, MAX_EMBEDDING_DIM, vectorBase64 } from '../embeddings.js';
import type { Exchange } from '../exchange.js';
import { countTokens, randomHex } from '../tokens.js';
import { llamacppModels } from './llamacpp-resources.js';
import type { OpenAIDialect } from './openai-dialect.js';
import { isRecord, type Json } from './prompt.js';

/** The requested model, or null after answering 400/404. */
export function resolveModel(ex: Exchange, d: OpenAIDialect, m: unknown): string | null {
  if (typeof m !== 'string' || m === '') {
    if (!d.strictModel) return ex.rt.opts.models[0]!;
    ex.error(400, "Missing required parameter: 'model'.", 'model');
    return null;
  }
  if (d.strictModel && !ex.rt.serves(m)) {
    const msg =
      d.name === 'ollama'
        ? `model "${m}" not found, try pulling it first`
        : `The model \`${m}\` does not exist${d.name === 'openai' ? ' or you do not have access to it' : ''}.`;
    ex.error(404, msg, 'model');
    return null;
  }
  return m;
}

/** `POST /v1/embeddings`: deterministic vectors, `encoding_format` float or base64 (little-endian float32). */
export async function embeddings(ex: Exchange, d: OpenAIDialect): Promise<void> {
  const b = ex.body;
  if (!isRecord(b)) return ex.error(400, 'The request body must be a JSON object.');
  const model = resolveModel(ex, d, b.model);
  if (model === null) return;
  const inputs = embeddingInputs(b.input);
  if (!inputs) return ex.error(400, "Invalid or missing 'input'.", 'input');
  const format = b.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64')
    return ex.error(400, "'encoding_format' must be 'float' or 'base64'.", 'encoding_format');
  const dim = embeddingDim(b.dimensions, ex.rt.opts.embeddingDim);
  if (dim === null)
    return ex.error(400, `'dimensions' must be an integer between 1 and ${MAX_EMBEDDING_DIM}.`, 'dimensions');
  if (ex.rt.timing.ttftMs > 0 && !(await ex.sleep(ex.rt.timing.ttftMs))) return;
  if (ex.fault?.resetAfterChunks !== undefined) return ex.reset();
  let tokens = 0;
  const data = inputs.map((text, index) => {
    tokens += countTokens(text);
    const v = embedVector(text, dim);
    return { object: 'embedding', embedding: format === 'base64' ? vectorBase64(v) : v, index };
  });
  ex.rt.counters.tokensIn += tokens;
  const head = d.name === 'vllm' ? { id: `embd-${randomHex(32)}`, created: Math.floor(Date.now() / 1000) } : {};
  ex.json(200, { ...head, object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
}

/** `GET /v1/models` in the dialect's shape (vLLM adds root/parent/max_model_len and LoRA adapters; llama.cpp's own). */
export function models(ex: Exchange, d: OpenAIDialect): void {
  const rt = ex.rt;
  if (d.name === 'llamacpp') {
    ex.json(200, llamacppModels(rt));
    return;
  }
  const names = d.name === 'ollama' ? rt.opts.models.map((m) => (m.includes(':') ? m : `${m}:latest`)) : rt.opts.models;
  const data = names.map((id) => {
    const card: Json = { id, object: 'model', created: rt.created, owned_by: d.ownedBy };
    if (d.name === 'vllm') Object.assign(card, { root: id, parent: null, max_model_len: rt.opts.maxModelLen });
    return card;
  });
  if (d.name === 'vllm') {
    for (const lora of rt.opts.loras) {
      data.push({
        id: lora,
        object: 'model',
        created: rt.created,
        owned_by: 'vllm',
        root: `/adapters/${lora}`,
        parent: names[0],
        max_model_len: rt.opts.maxModelLen,
      });
    }
  }
  ex.json(200, { object: 'list', data });
}
