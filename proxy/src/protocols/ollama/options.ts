/** Ollama `options` ↔ OpenAI sampling fields, as data. */
import { isRecord, type Json, untranslatable } from '../common/json.js';

/** Ollama option → canonical (OpenAI) field. */
const TRANSLATED: Record<string, keyof Sampling> = {
  temperature: 'temperature',
  top_p: 'top_p',
  top_k: 'top_k',
  seed: 'seed',
  stop: 'stop',
  num_predict: 'max_tokens',
  presence_penalty: 'presence_penalty',
  frequency_penalty: 'frequency_penalty',
};

/** Runtime knobs of the Ollama server itself; meaningless for other upstreams and ignored. */
const SERVER_KNOBS = new Set([
  'num_ctx',
  'num_batch',
  'num_gpu',
  'main_gpu',
  'use_mmap',
  'use_mlock',
  'num_thread',
  'numa',
  'low_vram',
  'num_keep',
]);

/** Canonical sampling fields an Ollama request can carry. */
export interface Sampling {
  temperature?: number;
  top_p?: number;
  top_k?: number;
  seed?: number;
  stop?: string | string[];
  max_tokens?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
}

const isStop = (v: unknown): v is string | string[] =>
  typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string'));

/**
 * Canonical sampling fields from Ollama `options`; options with no equivalent, or of a type the equivalent field
 * cannot take, get a 400 naming them.
 */
export function samplingFromOllamaOptions(options: unknown): Sampling {
  if (options === undefined || options === null) return {};
  if (!isRecord(options)) throw untranslatable('options', 'must be an object');
  const out: Sampling = {};
  for (const [k, v] of Object.entries(options)) {
    if (v === undefined || v === null || SERVER_KNOBS.has(k)) continue;
    const field = Object.hasOwn(TRANSLATED, k) ? TRANSLATED[k] : undefined;
    if (!field) throw untranslatable(`options.${k}`, 'has no equivalent on this upstream');
    if (field === 'stop') {
      if (!isStop(v)) throw untranslatable(`options.${k}`, 'must be a string or a list of strings');
      out.stop = v;
      continue;
    }
    if (typeof v !== 'number') throw untranslatable(`options.${k}`, 'must be a number');
    if (k === 'num_predict' && v < 0) continue;
    out[field] = v;
  }
  return out;
}

/** Ollama `options` from canonical sampling fields (`max_completion_tokens` wins over `max_tokens`). */
export function ollamaOptionsFromSampling(req: Readonly<Json>): Json {
  const out: Json = {};
  for (const [k, field] of Object.entries(TRANSLATED)) {
    const v = req[field];
    if (v !== undefined && v !== null) out[k] = v;
  }
  const max = req.max_completion_tokens;
  if (typeof max === 'number') out.num_predict = max;
  if (typeof out.stop === 'string') out.stop = [out.stop];
  return out;
}
