/**
 * Public types of the upstream simulator. This module has no runtime code and no imports from the proxy,
 * the operator or `shared/`: the simulator stands in for third-party servers and must not know about us.
 */

/** Which real server the simulator impersonates (protocol, paths, error shapes, metrics). */
export type Flavour = 'vllm' | 'llamacpp' | 'openai' | 'anthropic' | 'ollama';

/** Options of {@link startSimulator}; all optional. */
export interface SimulatorOptions {
  /** Server to impersonate. Default `vllm`. */
  flavour?: Flavour;
  /** Interface to bind. Default `127.0.0.1`. */
  host?: string;
  /** Port; 0 picks a free one. Default 0. */
  port?: number;
  /** Served model names. Default `['sim-model']`. */
  models?: string[];
  /** vLLM only: LoRA adapter names, served as extra models and reported in `vllm:lora_requests_info`. */
  loras?: string[];
  /** vLLM only: distinct adapters allowed in the running batch (`max_lora`). Default 1 when `loras` is set. */
  maxLoras?: number;
  /** Fixed extra delay before the first token, ms. Default 0. */
  ttftMs?: number;
  /** Delay between tokens, ms. Default 0. */
  itlMs?: number;
  /** Tokens generated when neither `max_tokens` limits nor a control sets the length. Default 16. */
  outputTokens?: number;
  /** Requests generating at once (engine slots). Default 64. */
  maxConcurrency?: number;
  /** Requests allowed to wait for a slot; beyond it the server answers 503 (Anthropic 529). Default unlimited. */
  maxQueue?: number;
  /** vLLM/llama.cpp: time after start (and after `restart()`) during which the server is loading (503).
   *  Ollama: cold-load delay of the first request to each model, reported as `load_duration`. Default 0. */
  loadingMs?: number;
  /** Require this key (`Authorization: Bearer` or `x-api-key`, as the real vendor does). */
  apiKey?: string;
  /** Label used by the CLI's logs. */
  name?: string;
  /** KV-cache size in blocks (vLLM/llama.cpp). Default 2048. */
  kvBlocks?: number;
  /** Tokens per KV block. Default 16. */
  blockSize?: number;
  /** Longest prompt + completion accepted, tokens. Default `kvBlocks * blockSize`. */
  maxModelLen?: number;
  /** Prefill cost of each prompt token not found in the prefix cache, ms. Default 0. */
  prefillMsPerToken?: number;
  /** Extra inter-token delay per running request, ms: `itl = itlMs + decodeMsPerToken * running`. Default 0. */
  decodeMsPerToken?: number;
  /** Dimension of embedding vectors when the request does not ask for one. Default 8. */
  embeddingDim?: number;
  /**
   * The model reasons (vLLM with a `--reasoning-parser`, a llama.cpp thinking template, an Ollama thinking model,
   * Claude with extended thinking): when the request enables thinking, the answer starts with reasoning text, in
   * each server's own field (vLLM `reasoning`, llama.cpp `reasoning_content`, Ollama `thinking`, Anthropic
   * `thinking` blocks, Responses `reasoning` items). Default false (Anthropic: true, thinking is asked per request).
   */
  reasoning?: boolean;
  /** llama.cpp: serve `/rerank` (the server's `--reranking`); without it the real server answers 501. Default false. */
  reranking?: boolean;
  /** llama.cpp: `/metrics` waits until no request is decoding, like the real single-threaded server loop. */
  metricsBlockDuringDecode?: boolean;
  /** Keep the last N requests for `requests()`; 0 disables recording. Default 1000. */
  recordLimit?: number;
  /** `close()` waits at most this long for in-flight requests before destroying them. Default 10000. */
  shutdownGraceMs?: number;
}

/**
 * A fault to inject. Instance faults (`setFaults`, `POST /_sim/faults`) apply to inference paths unless `paths`
 * says otherwise; a per-request fault (`x-sim-fault` header or a `[sim …]` prompt directive) applies to that request.
 */
export interface FaultSpec {
  /** Answer with this HTTP status in the flavour's error shape. */
  status?: number;
  /** With `status`: seconds for `Retry-After` (and `retry-after-ms` on the openai flavour). */
  retryAfter?: number;
  /** With `status`: error message instead of the flavour's default one. */
  message?: string;
  /** Probability (0..1) that a matching request gets the fault. Default 1. */
  rate?: number;
  /** Instance faults only: apply to the next `count` matching requests, then clear. */
  count?: number;
  /** Stream this many token chunks, then reset the TCP connection. Non-streaming: reset instead of answering. */
  resetAfterChunks?: number;
  /** Accept the request and never answer. */
  hang?: boolean;
  /** Delay before anything (headers included) is sent, ms. */
  slowFirstByteMs?: number;
  /** End the stream cleanly at HTTP level without the finish chunk / `[DONE]` / `message_stop` / `done:true`. */
  closeWithoutDone?: boolean;
  /** Send the protocol's in-stream error event and end. Non-streaming: a 500 (Anthropic: 529). */
  midStreamError?: boolean;
  /** Token chunks sent before `midStreamError` (default 1) or `closeWithoutDone` (default: all). */
  afterChunks?: number;
  /** Instance faults only: path prefixes the fault applies to. Default: the flavour's inference paths. */
  paths?: string[];
}

/** Counters and gauges of one simulator instance (cumulative since start or `resetStats()`). */
export interface SimStats {
  /** Protocol requests received (not `/_sim/*`). */
  requests: number;
  byPath: Record<string, number>;
  /** Inference requests (generation, embeddings) answered in full with a 2xx status. */
  completed: number;
  /** Requests answered with a 4xx/5xx status (validation, auth, injected faults, overload). */
  errors: number;
  /** Requests whose client went away before the answer was complete (the proxy aborted the upstream). */
  abortedByClient: number;
  /** Requests that received an injected fault. */
  faultsInjected: number;
  /** Requests generating now. */
  running: number;
  /** Requests waiting for a slot or KV blocks. */
  waiting: number;
  /** Most requests running and waiting at once (since start or `resetStats()`). */
  peakConcurrent: number;
  /** Requests held open by the `hang` fault. */
  hanging: number;
  /** Prompt tokens of admitted generation requests (and embedding inputs). */
  tokensIn: number;
  /** Generated tokens sent. */
  tokensOut: number;
  /** Prompt tokens looked up in the prefix cache. */
  prefixCacheQueries: number;
  /** Prompt tokens found in the prefix cache. */
  prefixCacheHits: number;
  /** KV blocks held by running requests. */
  kvBlocksUsed: number;
  /** Blocks kept in the prefix cache that no running request holds (evictable). */
  kvBlocksCached: number;
  kvBlocksTotal: number;
}

/** A request as received, for assertions on what the proxy sent upstream. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body, or `undefined` when there was none. */
  body: unknown;
  /** `Date.now()` at arrival. */
  time: number;
}

/** Per-instance timing that can change while running. */
export interface SimTiming {
  ttftMs?: number;
  itlMs?: number;
}

/** A running simulator. */
export interface Simulator {
  /** Base URL, e.g. `http://127.0.0.1:41234` (no trailing slash, no `/v1`). */
  readonly url: string;
  readonly port: number;
  readonly flavour: Flavour;
  /** Replaces the instance fault (validated: unknown fields throw); `null` clears it. */
  setFaults(fault: FaultSpec | null): void;
  setTiming(timing: SimTiming): void;
  /** Enter or leave the loading state (503 on protocol paths, `/health` 503). */
  setLoading(loading: boolean): void;
  stats(): SimStats;
  /** Zero the counters and forget recorded requests (gauges like `running` stay live). */
  resetStats(): void;
  /** Recorded requests, oldest first. */
  requests(): RecordedRequest[];
  /** Graceful stop: refuse new connections, let in-flight requests finish (bounded), then close. */
  close(): Promise<void>;
  /** Hard stop, like a crashed pod: every socket is destroyed at once. */
  kill(): Promise<void>;
  /** Listen again on the same port (after `close`/`kill`; kills first if still listening). KV cache is cold. */
  restart(): Promise<void>;
}
