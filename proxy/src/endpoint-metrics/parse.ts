/**
 * Reads the few series LLM-aware scheduling needs out of a vLLM or llama.cpp Prometheus text exposition, without
 * building a full model of the page: one pass over the lines, skipping every line whose name is not wanted.
 * Values of the same gauge across several engines or models are summed (queue depths) or maxed (cache use).
 *
 * Names read, per server version:
 * - vLLM 0.34.0 (`vllm/v1/metrics/loggers.py`): `vllm:num_requests_running`, `vllm:num_requests_waiting`,
 *   `vllm:kv_cache_usage_perc`, `vllm:cache_config_info`, `vllm:lora_requests_info`; servers older than v0.10
 *   reported KV-cache use as `vllm:gpu_cache_usage_perc`.
 * - llama.cpp 0c1e570 (`tools/server/server-task.cpp`, `to_metrics`): `llamacpp:requests_processing`,
 *   `llamacpp:requests_deferred`. It exports no KV-cache use (older builds had `llamacpp:kv_cache_usage_ratio`, still
 *   read when present): that comes from `/slots` (`parseSlots`).
 */

import type { ServerLoad } from '../endpoints/load.js';

export type { ServerLoad };

type Labels = Record<string, string>;

const SUMMED: Record<string, 'running' | 'waiting'> = {
  'vllm:num_requests_running': 'running',
  'vllm:num_requests_waiting': 'waiting',
  'llamacpp:requests_processing': 'running',
  'llamacpp:requests_deferred': 'waiting',
};
/** KV-cache use, preferred names first: `gpu_cache_usage_perc` is the name before vLLM v0.10. */
const KV_USAGE = ['vllm:kv_cache_usage_perc', 'llamacpp:kv_cache_usage_ratio', 'vllm:gpu_cache_usage_perc'];
const CACHE_INFO = 'vllm:cache_config_info';
const LORA_INFO = 'vllm:lora_requests_info';

/** Parses the series LLM-aware scheduling reads; ignores everything else (comments, histograms, other names). */
export function parseServerMetrics(text: string): ServerLoad {
  const out: ServerLoad = {};
  const kv: Array<number | undefined> = [];
  let loraAt = Number.NEGATIVE_INFINITY;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const first = text.charCodeAt(start);
    // Only `vllm:` and `llamacpp:` lines: 'v' or 'l'.
    if (first === 118 || first === 108) {
      const line = text.slice(start, end);
      const nameEnd = nameLength(line);
      const name = line.slice(0, nameEnd);
      const summed = SUMMED[name];
      const kvRank = KV_USAGE.indexOf(name);
      if (summed || kvRank >= 0 || name === CACHE_INFO || name === LORA_INFO) {
        const { labels, value } = sample(line, nameEnd);
        if (Number.isFinite(value)) {
          if (summed) out[summed] = (out[summed] ?? 0) + value;
          else if (kvRank >= 0) kv[kvRank] = Math.max(kv[kvRank] ?? 0, value);
          else if (name === CACHE_INFO) {
            const bs = Number(labels.block_size);
            const blocks = Number(labels.num_gpu_blocks);
            if (bs > 0) out.blockSize = bs;
            if (blocks > 0) out.kvBlocks = blocks;
          } else if (value >= loraAt) {
            // One series per state change, valued with its time: the newest is the current state.
            loraAt = value;
            out.loras = {
              running: list(labels.running_lora_adapters),
              waiting: list(labels.waiting_lora_adapters),
              max: Number(labels.max_lora) || 0,
            };
          }
        }
      }
    }
    start = end + 1;
  }
  const usage = kv.find((v) => v !== undefined);
  if (usage !== undefined) out.kvUsage = Math.min(1, Math.max(0, usage));
  return out;
}

interface Slot {
  is_processing?: unknown;
  n_ctx?: unknown;
  /** Tokens in the slot's context: prompt and generated so far (llama.cpp 0c1e570, `server_slot::to_json`). */
  n_prompt_tokens?: unknown;
}

/**
 * Reads llama.cpp's `/slots` answer (an array of slots with `is_processing`, `n_ctx` and, once they served a task,
 * `n_prompt_tokens`): busy slots and, when every slot reports its context, KV-cache use. Undefined when it is not
 * such an array.
 */
export function parseSlots(body: unknown): Pick<ServerLoad, 'slots' | 'kvUsage'> | undefined {
  if (!Array.isArray(body)) return undefined;
  let processing = 0;
  let held = 0;
  let contexts = 0;
  for (const s of body as Array<Slot | null>) {
    const nCtx = s?.n_ctx;
    contexts = typeof nCtx === 'number' && nCtx > 0 && contexts >= 0 ? contexts + nCtx : -1;
    if (s?.is_processing !== true) continue;
    processing++;
    if (typeof s.n_prompt_tokens === 'number' && s.n_prompt_tokens > 0) held += s.n_prompt_tokens;
  }
  const slots = { total: body.length, processing };
  return contexts > 0 ? { slots, kvUsage: Math.min(1, held / contexts) } : { slots };
}

function nameLength(line: string): number {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 123 /* { */ || c === 32 /* space */ || c === 9) return i;
  }
  return line.length;
}

/** Labels and value of one sample line whose metric name ends at `at`. */
function sample(line: string, at: number): { labels: Labels; value: number } {
  const labels: Labels = {};
  let i = at;
  if (line.charCodeAt(i) === 123) {
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/y;
    i++;
    for (;;) {
      while (line[i] === ',' || line[i] === ' ') i++;
      if (line[i] === '}' || i >= line.length) break;
      re.lastIndex = i;
      const m = re.exec(line);
      if (!m) return { labels, value: Number.NaN };
      labels[m[1] as string] = (m[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      i = re.lastIndex;
    }
    i++;
  }
  const rest = line.slice(i).trim();
  const space = rest.indexOf(' ');
  return { labels, value: Number(space < 0 ? rest : rest.slice(0, space)) };
}

function list(v: string | undefined): string[] {
  return v ? v.split(',').filter((s) => s.length > 0) : [];
}
