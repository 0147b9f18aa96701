/**
 * The llm-aware strategy: per request, over the tier's available members,
 * 1. drop the endpoints whose fresh metrics show them saturated (queue depth or KV-cache use above the pool's
 *    thresholds), unless every one is;
 * 2. rate prefix affinity, only for endpoints under the load bound (consistent hashing with bounded loads: load at
 *    most LOAD_FACTOR × the mean + LOAD_SLACK), so a popular prefix spills over, and, while some candidate has a
 *    free slot (llama.cpp `/slots`), only for endpoints with a free slot: a request beyond a replica's slots waits
 *    there and its prompt evicts another conversation's cache, so a shared system prompt alone must not pull every
 *    conversation onto the replica that saw it first. Two sources, the better counts: the conversation's
 *    rendezvous replica (rendezvous.ts: the best-ranked one under the bound holds all of it — the same replica on
 *    every proxy, without talking) and this proxy's prefix index (how many leading prompt blocks it sent to each
 *    endpoint; the session's last endpoint counts as holding all of it);
 * 3. rate each by the weighted scorers (scorers.ts) and take the best, ties at random;
 * 4. remember that the chosen endpoint now holds the prompt's prefix (and the session).
 * Only in-memory reads: the scraped metrics are the last stored readings, never awaited. O(members + prompt blocks).
 */
import type { PoolConfig } from '../../../../shared/src/proxyconfig/index.js';
import { freshServerLoad, serverQueue } from '../../endpoints/load.js';
import type { PoolMember } from '../../endpoints/member.js';
import type { EndpointState } from '../../endpoints/state.js';
import { eligible, type PickContext, type Scheduler } from '../types.js';
import type { AffinityRegistry, AffinityTables } from './affinity-tables.js';
import { MAX_PREFIX_BLOCKS, PromptHasher } from './prefix-hash.js';
import { RecentPicks } from './recent-picks.js';
import { conversationKey, rendezvousScore, replicaSeed } from './rendezvous.js';
import { type Candidate, combinedScores, isSaturated, type LlmAwareConfig } from './scorers.js';

/**
 * Bounded loads: an endpoint keeps prefix and session affinity while one more request keeps its load (requests in
 * flight or queued) within LOAD_FACTOR × the mean load + LOAD_SLACK. The slack lets a replica run a few more
 * requests than its peers (a batch barely slows down with one more) before a prefix hit is traded for balance.
 */
export const LOAD_FACTOR = 1.25;
export const LOAD_SLACK = 2;
/** Time constant of the recent-picks share the in-flight scorer also reads (places new sessions evenly). */
export const RECENT_PICKS_TAU_MS = 10_000;
/** Prefix blocks and sessions remembered per pool when the pool does not say. */
export const DEFAULT_PREFIX_INDEX_ENTRIES = 65_536;

/** One more request fits in the endpoint's slots (true when it reports none: only llama.cpp has slots). */
function slotFree(c: Candidate): boolean {
  const total = c.server?.slots?.total;
  return total === undefined || c.load + 1 <= total;
}

export class LlmAwareScheduler implements Scheduler {
  private readonly members: readonly PoolMember[];
  private readonly config: LlmAwareConfig;
  private readonly tables: AffinityTables;
  private readonly hasher: PromptHasher;
  private readonly recent = new RecentPicks(RECENT_PICKS_TAU_MS);
  /** Rendezvous seed of each member's endpoint (from its key in the snapshot: equal on every proxy). */
  private readonly seeds = new Map<EndpointState, number>();

  constructor(pool: PoolConfig, members: readonly PoolMember[], affinity: AffinityRegistry) {
    this.members = members.filter((m) => m.weight > 0);
    for (const m of this.members) this.seeds.set(m.endpoint, replicaSeed(m.endpoint.key));
    this.config = pool.scheduling.llmAware;
    this.tables = affinity.tablesFor(
      pool.id,
      this.members.map((m) => m.endpoint),
      this.config.prefixBlockChars,
      this.config.prefixIndexEntries ?? DEFAULT_PREFIX_INDEX_ENTRIES,
    );
    this.hasher = new PromptHasher(this.config.prefixBlockChars);
  }

  /** The prefix index and session table of this pool (tests and diagnostics). */
  get affinity(): AffinityTables {
    return this.tables;
  }

  pick(ctx: PickContext): PoolMember | undefined {
    const available = eligible(this.members, ctx);
    if (available.length === 0) return undefined;
    const hashes = ctx.prompt ? this.hasher.hashes(ctx.prompt) : [];
    const chosen = available.length === 1 ? (available[0] as PoolMember) : this.best(available, ctx, hashes).member;
    if (hashes.length > 0) this.tables.prefixes.record(hashes, chosen.endpoint);
    if (ctx.session) this.tables.sessions.record([ctx.session], chosen.endpoint);
    this.recent.add(chosen.endpoint, ctx.now);
    return chosen;
  }

  private best(available: readonly PoolMember[], ctx: PickContext, hashes: readonly number[]): Candidate {
    let candidates: Candidate[] = available.map((member) => {
      const server = freshServerLoad(member.endpoint, ctx.now);
      const recent = this.recent.value(member.endpoint, ctx.now);
      return { member, server, load: serverQueue(member.endpoint, server), recent, affinity: 0 };
    });
    const unsaturated = candidates.filter((c) => !isSaturated(c, this.config));
    if (unsaturated.length > 0) candidates = unsaturated;
    this.rateAffinity(candidates, ctx, hashes);
    let maxInflight = 0;
    let maxRecent = 0;
    for (const c of candidates) {
      maxInflight = Math.max(maxInflight, c.member.endpoint.inflight / c.member.weight);
      maxRecent = Math.max(maxRecent, c.recent / c.member.weight);
    }
    const scores = combinedScores(candidates, { config: this.config, maxInflight, maxRecent });
    let best = 0;
    let ties = 1;
    for (let i = 1; i < candidates.length; i++) {
      const s = scores[i] as number;
      const top = scores[best] as number;
      if (s > top + 1e-9) {
        best = i;
        ties = 1;
      } else if (s > top - 1e-9 && Math.random() * ++ties < 1) best = i;
    }
    return candidates[best] as Candidate;
  }

  /**
   * Sets `affinity` on the candidates under the load bound: 1 for the conversation's rendezvous endpoint and the
   * session's last one, else the share of the prompt's leading blocks this proxy sent there.
   */
  private rateAffinity(candidates: Candidate[], ctx: PickContext, hashes: readonly number[]): void {
    const session = ctx.session ? this.tables.sessions.holders(ctx.session)?.[0] : undefined;
    const blockChars = this.config.prefixBlockChars;
    const key = conversationKey(ctx.prompt, ctx.session, blockChars, MAX_PREFIX_BLOCKS * blockChars);
    if (hashes.length === 0 && !session && key === undefined) return;
    const byEndpoint = new Map<EndpointState, Candidate>();
    let totalLoad = 1;
    let totalWeight = 0;
    let someSlotFree = false;
    for (const c of candidates) {
      byEndpoint.set(c.member.endpoint, c);
      totalLoad += c.load;
      totalWeight += c.member.weight;
      if (slotFree(c)) someSlotFree = true;
    }
    const underBound = (c: Candidate) =>
      c.load + 1 <= (LOAD_FACTOR * totalLoad * c.member.weight) / totalWeight + LOAD_SLACK &&
      (!someSlotFree || slotFree(c));
    this.tables.prefixes.matchChain(hashes, (endpoint, blocks) => {
      const c = byEndpoint.get(endpoint);
      if (c && underBound(c)) c.affinity = blocks / hashes.length;
    });
    const own = session ? byEndpoint.get(session) : undefined;
    if (own && underBound(own)) own.affinity = 1;
    if (key === undefined) return;
    let target: Candidate | undefined;
    let best = Number.NEGATIVE_INFINITY;
    for (const c of candidates) {
      if (!underBound(c)) continue;
      const score = rendezvousScore(key, this.seeds.get(c.member.endpoint) ?? 0, c.member.weight);
      if (score > best) {
        best = score;
        target = c;
      }
    }
    if (target) target.affinity = 1;
  }
}
