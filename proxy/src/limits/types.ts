/**
 * The shared-state contract of rate limiting and caching. A request takes all its counters at once (admit) and
 * adjusts them when its answer is complete (settle); the cache lookup rides along with admission so a request costs
 * one round-trip before the upstream is called. Implemented over Redis (exact across replicas) and in memory.
 */

/** What a counter measures. */
export const COUNTER_METRICS = [
  'requests',
  'tokens',
  'concurrent',
  'tokensPerDay',
  'tokensPerMonth',
  'costPerDay',
  'costPerMonth',
] as const;
export type CounterMetric = (typeof COUNTER_METRICS)[number];

/**
 * The requests a budget counter counts, so it can be rebuilt from the usage ledger when the shared store lost it:
 * requests served since `periodStart` by one of the pools `policy` covers (those answering to `model`, when set),
 * from this tenant or key, when set.
 */
export interface LedgerScope {
  periodStart: number;
  policy: string;
  model?: string | undefined;
  tenant?: { policy: string; name: string } | undefined;
  keyId?: string | undefined;
  /** The counter counts cost (millionths of the pricing currency), not tokens. */
  cost: boolean;
}

/**
 * One counter a request must fit in.
 * - `window`: a sliding window of `param` ms (1 s buckets), taking `amount` (1 request, or estimated tokens).
 * - `concurrency`: a lease per in-flight request, expiring after `param` ms if never released.
 * - `fixed`: a calendar period (UTC day/month) ending in `param` ms; denies once `used >= limit` as well.
 */
export interface CounterSpec {
  key: string;
  kind: 'window' | 'concurrency' | 'fixed';
  metric: CounterMetric;
  /** key | tenant | model | global, for errors, logs and observers. */
  scope: string;
  /** Human-readable subject of the counter (tenant name, model), never a key. */
  subject: string;
  limit: number;
  amount: number;
  param: number;
  /** Not taken when the answer comes from cache (tokens, concurrency). */
  skipOnHit: boolean;
  /** Budgets (`fixed`): what the usage ledger holds for it, to rebuild it after a loss of the shared store. */
  ledger?: LedgerScope | undefined;
}

export interface CounterState {
  remaining: number;
  /** Milliseconds until capacity frees up (the oldest usage leaves the window, or the period ends). */
  resetMs: number;
}

export interface AdmitRequest {
  /** Unique per request (the concurrency lease member). */
  member: string;
  counters: CounterSpec[];
  /** Cache key to look up (only when admitted). */
  cacheKey?: string | undefined;
  /**
   * Check that every budget counter was seeded from the ledger since the store last lost it; when one was not,
   * nothing is taken and `unseeded` lists them (see LimitStore.seed).
   */
  checkSeeded?: boolean | undefined;
}

export interface AdmitResult {
  allowed: boolean;
  /** Index in `counters` of the counter that denied the request. */
  denied?: number;
  /** When the denying counter has room again; -1: the request can never fit (bigger than the limit). */
  retryAfterMs: number;
  /** The store's clock at admission (settle adjusts the same window bucket). */
  nowMs: number;
  states: CounterState[];
  /** The cached entry, when there was one. */
  cached?: string | undefined;
  /** `checkSeeded`: indices of the budget counters not seeded yet; nothing was taken or decided. */
  unseeded?: number[] | undefined;
}

export interface SettleRequest {
  member: string;
  admittedAt: number;
  counters: CounterSpec[];
  /** Per counter: amount to add (real − reserved); concurrency leases are always released. */
  deltas: number[];
  cacheStore?: { key: string; value: string; ttlMs: number } | undefined;
}

/** Shared (Redis) or local (in-memory) rate-limit and cache state. */
export interface LimitStore {
  readonly source: 'redis' | 'local';
  admit(req: AdmitRequest): Promise<AdmitResult>;
  settle(req: SettleRequest): Promise<void>;
  /**
   * Raises budget counter `counters[i]` to at least `amounts[i]` unless it was seeded already since the store last
   * lost it (once per counter and loss, whichever proxy comes first), and marks it seeded.
   */
  seed?(counters: CounterSpec[], amounts: number[]): Promise<void>;
}

/** Thrown by the Redis store when Redis cannot answer (down, timed out): the caller applies the failure mode. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}
