/**
 * llama.cpp `llama-server` resources in the shapes of llama.cpp 0c1e570 (the commit the real tier builds, checked by
 * test/real/sim-parity.test.ts): the model list (OpenAI `data` and Ollama-style `models`), `/props`, `/slots` (an
 * idle slot that never ran a task shows four fields; after a task it keeps its last task's figures), and the
 * `timings` object of answers. Without `--alias` the server names its model by its GGUF path.
 */
import type { Runtime } from '../runtime.js';

type Json = Record<string, unknown>;

/** What the simulated server reports as its model (its GGUF path, as a real server started without `--alias`). */
export function llamacppModelName(rt: Runtime): string {
  return `/models/${rt.opts.models[0]}.gguf`;
}

/** Context of one slot (llama-server's `--ctx-size` over `--parallel`): the simulator's `maxModelLen`. */
export function slotContext(rt: Runtime): number {
  return rt.opts.maxModelLen;
}

/** Default sampling parameters as `/props` and `/slots` list them (llama.cpp defaults). */
const SLOT_PARAMS: Json = {
  seed: 4294967295,
  temperature: 0.8,
  dynatemp_range: 0,
  dynatemp_exponent: 1,
  top_k: 40,
  top_p: 0.95,
  min_p: 0.05,
  top_n_sigma: -1,
  xtc_probability: 0,
  xtc_threshold: 0.1,
  typical_p: 1,
  repeat_last_n: 64,
  repeat_penalty: 1,
  presence_penalty: 0,
  frequency_penalty: 0,
  dry_multiplier: 0,
  dry_base: 1.75,
  dry_allowed_length: 2,
  dry_penalty_last_n: 64,
  mirostat: 0,
  mirostat_tau: 5,
  mirostat_eta: 0.1,
  adaptive_target: -1,
  adaptive_decay: 0.9,
  max_tokens: -1,
  n_predict: -1,
  n_keep: 0,
  n_discard: 0,
  ignore_eos: false,
  stream: false,
  n_probs: 0,
  min_keep: 0,
  chat_format: 'Content-only',
  reasoning_format: 'none',
  reasoning_in_content: false,
  generation_prompt: '',
  samplers: ['penalties', 'dry', 'top_n_sigma', 'top_k', 'typ_p', 'top_p', 'min_p', 'xtc', 'temperature'],
  'speculative.types': 'none',
  timings_per_token: false,
  post_sampling_probs: false,
  backend_sampling: false,
  lora: [],
};

/** `GET /v1/models` and `GET /models`. */
export function llamacppModels(rt: Runtime): Json {
  const name = llamacppModelName(rt);
  return {
    models: [
      {
        name,
        model: name,
        modified_at: '',
        size: '',
        digest: '',
        type: 'model',
        description: '',
        tags: [''],
        capabilities: ['completion'],
        parameters: '',
        details: {
          parent_model: '',
          format: 'gguf',
          family: '',
          families: [''],
          parameter_size: '',
          quantization_level: '',
        },
      },
    ],
    object: 'list',
    data: [
      {
        id: name,
        aliases: [name],
        tags: [],
        object: 'model',
        created: rt.created,
        owned_by: 'llamacpp',
        meta: {
          vocab_type: 1,
          n_vocab: 32064,
          n_ctx: slotContext(rt),
          n_ctx_train: rt.opts.maxModelLen,
          n_embd: 4096,
          n_params: 8_030_261_248,
          size: 4_920_733_696,
          ftype: 'Q4_K - Medium',
        },
      },
    ],
  };
}

/** `GET /props`. */
export function llamacppProps(rt: Runtime): Json {
  return {
    default_generation_settings: { params: SLOT_PARAMS, n_ctx: slotContext(rt) },
    total_slots: rt.opts.maxConcurrency,
    model_alias: llamacppModelName(rt),
    model_ftype: 'Q4_K - Medium',
    model_path: llamacppModelName(rt),
    modalities: { vision: false, video: false, audio: false },
    media_marker: '<__media_sim__>',
    endpoint_slots: true,
    endpoint_props: false,
    endpoint_metrics: true,
    ui: false,
    ui_settings: {},
    chat_template: '',
    chat_template_caps: {
      supports_object_arguments: false,
      supports_parallel_tool_calls: false,
      supports_preserve_reasoning: false,
      supports_reasoning_effort: false,
      supports_string_content: true,
      supports_system_role: true,
      supports_tool_calls: true,
      supports_tools: true,
      supports_typed_content: false,
    },
    bos_token: '<s>',
    eos_token: '</s>',
    build_info: 'b6000-sim',
    is_sleeping: false,
    cors_proxy_enabled: false,
  };
}

/** `GET /slots`: a slot's context holds its task's prompt and what it generated so far. */
export function llamacppSlots(rt: Runtime): Json[] {
  const nCtx = slotContext(rt);
  return rt.engine.lastLeases.map((lease, id) => {
    const slot: Json = { id, n_ctx: nCtx, speculative: false, is_processing: rt.engine.slots[id] !== null };
    if (!lease) return slot;
    const processing = rt.engine.slots[id] === lease;
    return {
      ...slot,
      id_task: lease.task,
      n_prompt_tokens: lease.job.promptTokens + lease.decoded,
      n_prompt_tokens_processed: processing ? lease.job.promptTokens - lease.cachedTokens : 0,
      n_prompt_tokens_cache: processing ? lease.cachedTokens : 0,
      params: { ...SLOT_PARAMS, n_predict: lease.job.outputTokens, stream: true },
      next_token: [
        {
          has_next_token: processing,
          has_new_line: false,
          n_remain: processing ? Math.max(0, lease.job.outputTokens - lease.decoded) : -1,
          n_decoded: processing ? lease.decoded : 0,
        },
      ],
    };
  });
}

/** The `timings` object llama.cpp adds to answers (prompt and generation time of the request). */
export function llamacppTimings(promptTokens: number, cachedTokens: number, completionTokens: number): Json {
  const promptN = promptTokens - cachedTokens;
  const promptMs = promptN * 0.1;
  const predictedMs = completionTokens * 2;
  return {
    cache_n: cachedTokens,
    prompt_n: promptN,
    prompt_ms: promptMs,
    prompt_per_token_ms: promptN > 0 ? promptMs / promptN : 0,
    prompt_per_second: promptMs > 0 ? (promptN * 1000) / promptMs : 0,
    predicted_n: completionTokens,
    predicted_ms: predictedMs,
    predicted_per_token_ms: completionTokens > 0 ? predictedMs / completionTokens : 0,
    predicted_per_second: predictedMs > 0 ? (completionTokens * 1000) / predictedMs : 0,
  };
}
