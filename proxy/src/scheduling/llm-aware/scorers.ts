/**
 * The llm-aware scorers: each rates a candidate endpoint in [0, 1] (higher is better) from one signal, and the
 * pool's weights combine them. A scorer that cannot rate an endpoint (its scraped metrics are stale or missing)
 * gives it the mean of the others' ratings, so missing data neither favours nor penalises it.
 */
import type { PoolConfig } from '../../../../shared/src/proxyconfig/index.js';
import type { ScrapedLoad } from '../../endpoints/load.js';
import type { PoolMember } from '../../endpoints/member.js';

export type LlmAwareConfig = PoolConfig['scheduling']['llmAware'];
export type ScorerWeights = LlmAwareConfig['weights'];
export type ScorerName = keyof ScorerWeights;

/** One endpoint that may take the request, with what the scorers read. */
export interface Candidate {
  member: PoolMember;
  /** Fresh scraped load, if any. */
  server: ScrapedLoad | undefined;
  /** Requests on the endpoint per unit of weight: the proxy's in-flight count or, if larger, the scraped running + waiting. */
  load: number;
  /** Decayed count of this scheduler's recent picks of the endpoint (recent-picks.ts). */
  recent: number;
  /** Share of the prompt's leading blocks the endpoint is believed to hold in cache (1 for the session's endpoint). */
  affinity: number;
}

/** Values shared by every candidate of one pick. */
export interface ScoreContext {
  config: LlmAwareConfig;
  /** Largest proxy-side in-flight count per unit of weight among the candidates. */
  maxInflight: number;
  /** Largest recent-picks count per unit of weight among the candidates. */
  maxRecent: number;
}

type Scorer = (c: Candidate, s: ScoreContext) => number | undefined;

const SCORERS: Record<ScorerName, Scorer> = {
  /** Waiting requests: 1 when none wait, 0 at `maxQueueDepth` or more. */
  queue: (c, s) =>
    c.server?.waiting === undefined
      ? undefined
      : 1 - Math.min(1, c.server.waiting / Math.max(1, s.config.maxQueueDepth)),
  /** KV-cache headroom. */
  kvCache: (c) => (c.server?.kvUsage === undefined ? undefined : 1 - c.server.kvUsage),
  /**
   * Proxy-side load, known without delay: half the in-flight requests now, half the share of recent picks (so new
   * sessions, which no prefix pulls anywhere, are placed evenly over time), each relative to the busiest candidate.
   */
  inflight: (c, s) =>
    1 -
    (c.member.endpoint.inflight / c.member.weight / (s.maxInflight + 1) +
      c.recent / c.member.weight / (s.maxRecent + 1)) /
      2,
  /** Prefix-cache affinity (already zero where the load bound forbids it). */
  prefix: (c) => c.affinity,
  /** LoRA adapter affinity: the model sent upstream is an adapter running (1) or queued (0.5) on the endpoint. */
  lora: (c) => {
    const loras = c.server?.loras;
    if (!loras) return undefined;
    const model = c.member.target.upstreamModel;
    return loras.running.includes(model) ? 1 : loras.waiting.includes(model) ? 0.5 : 0;
  },
};

const NAMES = Object.keys(SCORERS) as ScorerName[];

/** Weighted sum of the scorers for each candidate, in the order given. O(candidates × scorers). */
export function combinedScores(candidates: readonly Candidate[], s: ScoreContext): Float64Array {
  const totals = new Float64Array(candidates.length);
  const values = new Array<number | undefined>(candidates.length);
  for (const name of NAMES) {
    const weight = s.config.weights[name];
    if (weight <= 0) continue;
    let sum = 0;
    let known = 0;
    for (let i = 0; i < candidates.length; i++) {
      const v = SCORERS[name](candidates[i] as Candidate, s);
      values[i] = v;
      if (v !== undefined) {
        sum += v;
        known++;
      }
    }
    if (known === 0) continue; // no candidate can be rated: the scorer cannot tell them apart
    const mean = sum / known;
    for (let i = 0; i < candidates.length; i++) totals[i] = (totals[i] as number) + weight * (values[i] ?? mean);
  }
  return totals;
}

/** Whether fresh metrics show the endpoint above the pool's queue-depth or KV-cache thresholds. */
export function isSaturated(c: Candidate, config: LlmAwareConfig): boolean {
  return c.server !== undefined && loadSaturated(c.server, config);
}

/** Whether a replica's scraped load is above the pool's queue-depth or KV-cache thresholds. */
export function loadSaturated(m: ScrapedLoad, config: LlmAwareConfig): boolean {
  return (m.waiting ?? 0) > config.maxQueueDepth || (m.kvUsage ?? 0) > config.maxKvCacheUsage;
}
