/**
 * Prometheus text exposition of the vLLM (`vllm:*`, labels `model_name` and `engine`) and llama.cpp (`llamacpp:*`)
 * metrics that schedulers read. Values are printed like Python's prometheus_client (`12.0`).
 */
import type { Runtime } from './runtime.js';
import type { Histogram } from './stats.js';

/** `content-type` of `/metrics`. */
export const METRICS_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

function num(v: number): string {
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  return Number.isInteger(v) ? `${v}.0` : String(v);
}

function esc(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labels(l: Record<string, string>): string {
  return `{${Object.entries(l)
    .map(([k, v]) => `${k}="${esc(v)}"`)
    .join(',')}}`;
}

class Exposition {
  text = '';
  metric(name: string, type: string, help: string, samples: [Record<string, string>, number][]): void {
    this.text += `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;
    for (const [l, v] of samples) this.text += `${name}${labels(l)} ${num(v)}\n`;
  }
  histogram(name: string, help: string, l: Record<string, string>, h: Histogram): void {
    this.text += `# HELP ${name} ${help}\n# TYPE ${name} histogram\n`;
    let cum = 0;
    h.buckets.forEach((b, i) => {
      cum += h.counts[i]!;
      this.text += `${name}_bucket${labels({ ...l, le: num(b) })} ${num(cum)}\n`;
    });
    this.text += `${name}_bucket${labels({ ...l, le: '+Inf' })} ${num(h.count)}\n`;
    this.text += `${name}_count${labels(l)} ${num(h.count)}\n${name}_sum${labels(l)} ${num(h.sum)}\n`;
  }
}

/** vLLM `/metrics`. */
export function vllmMetrics(rt: Runtime): string {
  const c = rt.counters;
  const l = { engine: '0', model_name: rt.opts.models[0]! };
  const e = new Exposition();
  e.metric('vllm:num_requests_running', 'gauge', 'Number of requests in model execution batches.', [
    [l, rt.engine.running],
  ]);
  e.metric('vllm:num_requests_waiting', 'gauge', 'Number of requests waiting to be processed.', [
    [l, rt.engine.waiting],
  ]);
  e.metric('vllm:kv_cache_usage_perc', 'gauge', 'KV-cache usage. 1 means 100 percent usage.', [
    [l, rt.kv?.usage() ?? 0],
  ]);
  e.metric(
    'vllm:prefix_cache_queries_total',
    'counter',
    'Prefix cache queries, in terms of number of queried tokens.',
    [[l, c.prefixQueries]],
  );
  e.metric('vllm:prefix_cache_hits_total', 'counter', 'Prefix cache hits, in terms of number of cached tokens.', [
    [l, c.prefixHits],
  ]);
  e.metric('vllm:num_preemptions_total', 'counter', 'Cumulative number of preemption from the engine.', [[l, 0]]);
  e.metric('vllm:prompt_tokens_total', 'counter', 'Number of prefill tokens processed.', [[l, c.tokensIn]]);
  e.metric('vllm:generation_tokens_total', 'counter', 'Number of generation tokens processed.', [[l, c.tokensOut]]);
  e.metric(
    'vllm:request_success_total',
    'counter',
    'Count of successfully processed requests.',
    // vLLM 0.34.0 FinishReason: one series per reason, from the start.
    ['stop', 'length', 'abort', 'error', 'repetition'].map((r) => [
      { ...l, finished_reason: r },
      c.finished.get(r) ?? 0,
    ]),
  );
  e.histogram('vllm:time_to_first_token_seconds', 'Histogram of time to first token in seconds.', l, c.ttft);
  e.histogram('vllm:e2e_request_latency_seconds', 'Histogram of e2e request latency in seconds.', l, c.e2e);
  const cache = {
    block_size: String(rt.opts.blockSize),
    cache_dtype: 'auto',
    enable_prefix_caching: 'True',
    gpu_memory_utilization: '0.9',
    num_cpu_blocks: '0',
    num_gpu_blocks: String(rt.opts.kvBlocks),
    prefix_caching_hash_algo: 'sha256',
  };
  e.metric('vllm:cache_config_info', 'gauge', 'Information of the LLMEngine CacheConfig', [[cache, 1]]);
  const lora = rt.engine.adapters();
  const loraLabels = {
    max_lora: String(rt.opts.loras.length > 0 ? rt.opts.maxLoras : 0),
    running_lora_adapters: lora.running.join(','),
    waiting_lora_adapters: lora.waiting.join(','),
  };
  e.metric('vllm:lora_requests_info', 'gauge', 'Running stats on lora requests.', [[loraLabels, Date.now() / 1000]]);
  return e.text;
}

/**
 * llama.cpp `/metrics` (no labels, plain numbers): the families of llama.cpp 0c1e570 (`server-task.cpp`,
 * `to_metrics`), counters then gauges. No KV-cache gauge: llama.cpp reports the context held per slot in `/slots`.
 */
export function llamacppMetrics(rt: Runtime): string {
  const c = rt.counters;
  const decodes = Math.max(c.tokensOut, 1);
  const rows: [string, string, string, number][] = [
    [
      'prompt_tokens_total',
      'counter',
      'Number of prompt tokens processed, excluding cached tokens',
      c.tokensIn - c.prefixHits,
    ],
    ['prompt_tokens_cached_total', 'counter', 'Number of prompt tokens reused from the cache', c.prefixHits],
    ['prompt_seconds_total', 'counter', 'Total time spent processing prompts', c.promptSeconds],
    ['tokens_predicted_total', 'counter', 'Number of generation tokens processed', c.tokensOut],
    ['tokens_predicted_seconds_total', 'counter', 'Total time spent generating tokens', c.decodeSeconds],
    [
      'n_decode_total',
      'counter',
      'Total number of llama_decode() calls, excluding speculative decoding and multimodal decoding',
      c.tokensOut,
    ],
    ['n_tokens_max', 'counter', 'Largest observed sequence length (prompt + generation)', c.longestSequence],
    ['spec_decode_num_draft_tokens_total', 'counter', 'Speculative: Total draft tokens generated', 0],
    [
      'spec_decode_num_accepted_tokens_total',
      'counter',
      'Speculative: Total draft tokens accepted by the target model',
      0,
    ],
    ['spec_decode_num_drafts_total', 'counter', 'Speculative: Total speculative decoding verification steps', 0],
    [
      'prompt_tokens_seconds',
      'gauge',
      'Average prompt throughput in tokens/s',
      c.promptSeconds > 0 ? c.tokensIn / c.promptSeconds : 0,
    ],
    [
      'predicted_tokens_seconds',
      'gauge',
      'Average generation throughput in tokens/s',
      c.decodeSeconds > 0 ? c.tokensOut / c.decodeSeconds : 0,
    ],
    ['requests_processing', 'gauge', 'Number of requests processing', rt.engine.running],
    ['requests_deferred', 'gauge', 'Number of requests deferred', rt.engine.waiting],
    [
      'n_busy_slots_per_decode',
      'gauge',
      'Average number of busy slots per llama_decode() call',
      c.busySlotSteps / decodes,
    ],
  ];
  let s = '';
  for (const [name, type, help, v] of rows) {
    s += `# HELP llamacpp:${name} ${help}\n# TYPE llamacpp:${name} ${type}\nllamacpp:${name} ${Number.isInteger(v) ? v : v.toFixed(6)}\n`;
  }
  return s;
}
