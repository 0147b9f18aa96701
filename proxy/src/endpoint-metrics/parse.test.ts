import { describe, expect, it } from 'vitest';
import { parseServerMetrics, parseSlots } from './parse.js';

const VLLM = `# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="m"} 3.0
vllm:num_requests_running{engine="1",model_name="m"} 2.0
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="m"} 7.0
vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.25
vllm:kv_cache_usage_perc{engine="1",model_name="m"} 0.5
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.001",model_name="m"} 0.0
vllm:num_requests_waiting_by_reason{engine="0",model_name="m"} 99.0
vllm:cache_config_info{block_size="16",cache_dtype="auto",num_gpu_blocks="2048",prefix_caching_hash_algo="sha256"} 1.0
vllm:lora_requests_info{max_lora="2",running_lora_adapters="a,b",waiting_lora_adapters=""} 1.7e+09
vllm:lora_requests_info{max_lora="2",running_lora_adapters="c",waiting_lora_adapters="d"} 1.8e+09
vllm:lora_requests_info{max_lora="2",running_lora_adapters="",waiting_lora_adapters=""} 1.6e+09
`;

describe('parseServerMetrics', () => {
  it('reads vLLM queue depths (summed over engines), KV use (max), block size and the newest LoRA state', () => {
    expect(parseServerMetrics(VLLM)).toEqual({
      running: 5,
      waiting: 7,
      kvUsage: 0.5,
      blockSize: 16,
      kvBlocks: 2048,
      loras: { running: ['c'], waiting: ['d'], max: 2 },
    });
  });

  it('falls back to vllm:gpu_cache_usage_perc (vLLM before v0.10) only when kv_cache_usage_perc is absent', () => {
    expect(parseServerMetrics('vllm:gpu_cache_usage_perc{model_name="m"} 0.75\n').kvUsage).toBe(0.75);
    expect(
      parseServerMetrics('vllm:gpu_cache_usage_perc{model_name="m"} 0.75\nvllm:kv_cache_usage_perc{model_name="m"} 0.1')
        .kvUsage,
    ).toBe(0.1);
  });

  it('reads what llama.cpp 0c1e570 exports: queue gauges, no KV-cache use', () => {
    const text = `# HELP llamacpp:prompt_tokens_total Number of prompt tokens processed, excluding cached tokens
# TYPE llamacpp:prompt_tokens_total counter
llamacpp:prompt_tokens_total 11
# HELP llamacpp:requests_processing Number of requests processing
# TYPE llamacpp:requests_processing gauge
llamacpp:requests_processing 1
# HELP llamacpp:requests_deferred Number of requests deferred
# TYPE llamacpp:requests_deferred gauge
llamacpp:requests_deferred 0
# HELP llamacpp:n_busy_slots_per_decode Average number of busy slots per llama_decode() call
# TYPE llamacpp:n_busy_slots_per_decode gauge
llamacpp:n_busy_slots_per_decode 1
`;
    expect(parseServerMetrics(text)).toEqual({ running: 1, waiting: 0 });
  });

  it('reads the KV-cache use of older llama.cpp builds', () => {
    const text = `# TYPE llamacpp:requests_processing gauge
llamacpp:requests_processing 2
llamacpp:requests_deferred 4
llamacpp:kv_cache_usage_ratio 0.125000
llamacpp:prompt_tokens_total 1000
`;
    expect(parseServerMetrics(text)).toEqual({ running: 2, waiting: 4, kvUsage: 0.125 });
  });

  it('ignores malformed and unrelated lines', () => {
    expect(parseServerMetrics('garbage\nvllm:num_requests_waiting{model_name="m" 3\nlast_one 1')).toEqual({});
    expect(parseServerMetrics('vllm:num_requests_waiting NaN\n')).toEqual({});
  });

  it('handles escaped quotes in label values and timestamps after the value', () => {
    const text = 'vllm:num_requests_waiting{model_name="a \\"quoted\\" name"} 2 1700000000000\n';
    expect(parseServerMetrics(text).waiting).toBe(2);
  });
});

describe('parseSlots', () => {
  it('counts busy slots of llama.cpp /slots', () => {
    expect(
      parseSlots([
        { id: 0, is_processing: true },
        { id: 1, is_processing: false },
        { id: 2, is_processing: true },
      ]),
    ).toEqual({ slots: { total: 3, processing: 2 } });
    expect(parseSlots({ error: 'disabled' })).toBeUndefined();
  });

  it('reads KV-cache use: tokens of the busy slots over all slot contexts (llama.cpp 0c1e570 shape)', () => {
    const busy = {
      id: 1,
      n_ctx: 2048,
      speculative: false,
      is_processing: true,
      id_task: 6,
      n_prompt_tokens: 711,
      n_prompt_tokens_processed: 10,
      n_prompt_tokens_cache: 5,
      next_token: [{ has_next_token: true, has_new_line: false, n_remain: 803, n_decoded: 697 }],
    };
    // A finished slot keeps its tokens cached but holds them for no request.
    const done = { ...busy, id: 2, is_processing: false, n_prompt_tokens: 1514 };
    const idle = { id: 0, n_ctx: 2048, speculative: false, is_processing: false };
    expect(parseSlots([idle, busy, done])).toEqual({ slots: { total: 3, processing: 1 }, kvUsage: 711 / 6144 });
    expect(parseSlots([{ id: 0, is_processing: true }])).toEqual({ slots: { total: 1, processing: 1 } });
  });
});
