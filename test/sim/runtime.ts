/** State of one simulator instance, shared by the server, the flavours and the generation runner. */
import { Engine } from './engine.js';
import type { Exchange } from './exchange.js';
import { FaultState } from './faults.js';
import type { FlavourDef } from './flavours/types.js';
import { PrefixCache } from './kv-cache.js';
import { Counters } from './stats.js';
import type { Flavour, RecordedRequest, SimStats, SimulatorOptions } from './types.js';

/** Options with defaults applied. */
export type ResolvedOptions = Required<Omit<SimulatorOptions, 'apiKey'>> & { apiKey: string | undefined };

/** Applies defaults and sanity limits to user options. */
export function resolveOptions(o: SimulatorOptions): ResolvedOptions {
  const flavour: Flavour = o.flavour ?? 'vllm';
  const kvBlocks = Math.max(1, o.kvBlocks ?? 2048);
  const blockSize = Math.max(1, o.blockSize ?? 16);
  const loras = o.loras ?? [];
  return {
    flavour,
    host: o.host ?? '127.0.0.1',
    port: o.port ?? 0,
    models: o.models && o.models.length > 0 ? o.models : ['sim-model'],
    loras,
    maxLoras: Math.max(1, o.maxLoras ?? 1),
    ttftMs: o.ttftMs ?? 0,
    itlMs: o.itlMs ?? 0,
    outputTokens: o.outputTokens ?? 16,
    maxConcurrency: Math.max(1, o.maxConcurrency ?? 64),
    maxQueue: o.maxQueue ?? Number.POSITIVE_INFINITY,
    loadingMs: o.loadingMs ?? 0,
    apiKey: o.apiKey,
    name: o.name ?? flavour,
    kvBlocks,
    blockSize,
    maxModelLen: Math.min(o.maxModelLen ?? kvBlocks * blockSize, kvBlocks * blockSize),
    prefillMsPerToken: o.prefillMsPerToken ?? 0,
    decodeMsPerToken: o.decodeMsPerToken ?? 0,
    embeddingDim: o.embeddingDim ?? 8,
    reranking: o.reranking ?? false,
    reasoning: o.reasoning ?? flavour === 'anthropic',
    metricsBlockDuringDecode: o.metricsBlockDuringDecode ?? false,
    recordLimit: o.recordLimit ?? 1000,
    shutdownGraceMs: o.shutdownGraceMs ?? 10_000,
  };
}

/** Mutable state of one instance. */
export class Runtime {
  flavour!: FlavourDef;
  readonly timing: { ttftMs: number; itlMs: number };
  loading = false;
  readonly faults = new FaultState();
  counters = new Counters();
  readonly kv: PrefixCache | null;
  readonly engine: Engine;
  /** Requests held open by the `hang` fault. */
  readonly hung = new Set<Exchange>();
  /** Exchanges not yet closed. */
  inflight = 0;
  /** Set while `kill()` destroys sockets, so those closes are not counted as client aborts. */
  killing = false;
  /** Unix seconds at start (model `created` fields). */
  readonly created = Math.floor(Date.now() / 1000);
  /** Ollama: models already loaded (cold-load delay applies once per model). */
  readonly loaded = new Set<string>();
  private readonly served: Set<string>;
  private recorded: RecordedRequest[] = [];
  private recordAt = 0;
  private loadingTimer: NodeJS.Timeout | undefined;

  constructor(readonly opts: ResolvedOptions) {
    this.timing = { ttftMs: opts.ttftMs, itlMs: opts.itlMs };
    const kvFlavour = opts.flavour === 'vllm' || opts.flavour === 'llamacpp';
    this.kv = kvFlavour ? new PrefixCache(opts.kvBlocks, opts.blockSize) : null;
    this.engine = new Engine(
      {
        maxConcurrency: opts.maxConcurrency,
        maxQueue: opts.maxQueue,
        maxLoras: opts.maxLoras,
        prefillMsPerToken: opts.prefillMsPerToken,
      },
      this.kv,
    );
    this.engine.onStart = (lease) => {
      this.counters.tokensIn += lease.job.promptTokens;
      if (this.kv) {
        this.counters.prefixQueries += lease.job.promptTokens;
        this.counters.prefixHits += lease.cachedTokens;
      }
    };
    this.served = new Set([...opts.models, ...opts.loras]);
    // Ollama names carry a tag; `llama3` and `llama3:latest` are the same model.
    if (opts.flavour === 'ollama') {
      for (const m of opts.models) this.served.add(m.includes(':') ? m.replace(/:latest$/, '') : `${m}:latest`);
    }
  }

  /** Current inter-token delay, ms (grows with the running batch when `decodeMsPerToken` is set). */
  itl(): number {
    return this.timing.itlMs + this.opts.decodeMsPerToken * this.engine.running;
  }

  /** Whether `model` is served (base model or LoRA adapter). */
  serves(model: string): boolean {
    return this.served.has(model);
  }

  /** The LoRA adapter a model name refers to, or null for a base model. */
  adapterOf(model: string): string | null {
    return this.opts.loras.includes(model) ? model : null;
  }

  /** Enters the loading state for `loadingMs` (vLLM/llama.cpp start-up). */
  startLoading(): void {
    clearTimeout(this.loadingTimer);
    if (this.opts.loadingMs <= 0 || (this.opts.flavour !== 'vllm' && this.opts.flavour !== 'llamacpp')) return;
    this.loading = true;
    this.loadingTimer = setTimeout(() => {
      this.loading = false;
    }, this.opts.loadingMs);
    this.loadingTimer.unref();
  }

  /** Forces the loading state on or off (cancels a pending start-up timer). */
  setLoading(on: boolean): void {
    clearTimeout(this.loadingTimer);
    this.loading = on;
  }

  record(r: RecordedRequest): void {
    const limit = this.opts.recordLimit;
    if (limit <= 0) return;
    if (this.recorded.length < limit) this.recorded.push(r);
    else {
      this.recorded[this.recordAt] = r;
      this.recordAt = (this.recordAt + 1) % limit;
    }
  }

  requests(): RecordedRequest[] {
    return [...this.recorded.slice(this.recordAt), ...this.recorded.slice(0, this.recordAt)];
  }

  stats(): SimStats {
    const c = this.counters;
    return {
      requests: c.requests,
      byPath: Object.fromEntries(c.byPath),
      completed: c.completed,
      errors: c.errors,
      abortedByClient: c.abortedByClient,
      faultsInjected: c.faultsInjected,
      running: this.engine.running,
      waiting: this.engine.waiting,
      peakConcurrent: this.engine.peak,
      hanging: this.hung.size,
      tokensIn: c.tokensIn,
      tokensOut: c.tokensOut,
      prefixCacheQueries: c.prefixQueries,
      prefixCacheHits: c.prefixHits,
      kvBlocksUsed: this.kv?.held ?? 0,
      kvBlocksCached: this.kv?.cached ?? 0,
      kvBlocksTotal: this.kv?.totalBlocks ?? 0,
    };
  }

  resetStats(): void {
    this.counters = new Counters();
    this.engine.resetPeak();
    this.recorded = [];
    this.recordAt = 0;
  }
}
