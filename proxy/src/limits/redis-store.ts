/**
 * LimitStore over Redis: counters exact across every proxy replica sharing it (see lua.ts for the algorithm).
 *
 * One server or Sentinel: a request's counters and its cache entry are taken in one script (one round-trip).
 * Redis Cluster: a script may only touch keys of one hash slot, so counters are grouped by hash tag (one subject's
 * counters share a tag, counters.ts; a budget's seed marker shares its counter's) and each group is taken by its own
 * script, all at once; the cache entry, in a slot of its own, is looked up first (a second round-trip only for
 * requests with a cache policy). When one group denies (or finds a budget unseeded), the groups that admitted give
 * back what they took, so a denied request never counts. In between, other requests may see those counters fuller
 * than they end up (a denial too many, never an admission too many).
 */
import { ADMIT_SCRIPT, SEED_SCRIPT, SETTLE_SCRIPT } from './lua.js';
import { luaScript, type RedisClient } from './redis-client.js';
import type { AdmitRequest, AdmitResult, CounterSpec, CounterState, LimitStore, SettleRequest } from './types.js';

const ADMIT = luaScript(ADMIT_SCRIPT);
const SETTLE = luaScript(SETTLE_SCRIPT);
const SEED = luaScript(SEED_SCRIPT);
/** The key marking a budget counter as seeded from the ledger since Redis last lost it (same hash tag). */
const markerOf = (c: CounterSpec) => `${c.key}:seeded`;
/** How long past its period a budget counter (and its marker) is kept. */
const FIXED_GRACE_MS = 60_000;
const KIND: Record<CounterSpec['kind'], string> = { window: 'w', concurrency: 'c', fixed: 'f' };

/** The part of a key Redis Cluster hashes: the text between the first `{` and the next `}`, if not empty. */
export function hashTag(key: string): string {
  const open = key.indexOf('{');
  if (open < 0) return key;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}

/** Indices of `counters` grouped by hash tag, in first-seen order. */
function groupsOf(counters: readonly CounterSpec[]): number[][] {
  const byTag = new Map<string, number[]>();
  counters.forEach((c, i) => {
    const tag = hashTag(c.key);
    const g = byTag.get(tag);
    if (g) g.push(i);
    else byTag.set(tag, [i]);
  });
  return [...byTag.values()];
}

/** Whether denial `b` outranks denial `a` (as in the script: "never fits" first, then the longest wait). */
const worse = (a: AdmitResult | undefined, b: AdmitResult) =>
  !a || b.retryAfterMs === -1 || (a.retryAfterMs !== -1 && b.retryAfterMs > a.retryAfterMs);

const pick = <T>(items: readonly T[], indices: readonly number[]): T[] => indices.map((i) => items[i] as T);

export class RedisLimitStore implements LimitStore {
  readonly source = 'redis' as const;

  constructor(private readonly client: RedisClient) {}

  async admit(req: AdmitRequest): Promise<AdmitResult> {
    const check = req.checkSeeded === true;
    if (!this.client.clustered)
      return this.admitScript(req.member, req.counters, req.cacheKey ? 1 : 0, req.cacheKey, check);
    const cached = req.cacheKey ? ((await this.client.get(req.cacheKey)) ?? undefined) : undefined;
    const useCache = cached === undefined ? 0 : 2;
    const groups = groupsOf(req.counters);
    const results = await Promise.all(
      groups.map((g) => this.admitScript(req.member, pick(req.counters, g), useCache, undefined, check)),
    );
    const states: CounterState[] = new Array(req.counters.length);
    const unseeded: number[] = [];
    let denial: { result: AdmitResult; index: number } | undefined;
    let nowMs = 0;
    results.forEach((r, gi) => {
      const g = groups[gi] as number[];
      if (r.unseeded) {
        unseeded.push(...r.unseeded.map((j) => g[j] as number));
        return;
      }
      g.forEach((i, j) => {
        states[i] = r.states[j] as CounterState;
      });
      nowMs = Math.max(nowMs, r.nowMs);
      if (!r.allowed && worse(denial?.result, r)) denial = { result: r, index: g[r.denied ?? 0] as number };
    });
    if (unseeded.length > 0 || denial) await this.giveBack(req, groups, results, cached !== undefined);
    if (unseeded.length > 0) return { allowed: false, retryAfterMs: 0, nowMs: 0, states: [], unseeded };
    if (denial)
      return { allowed: false, denied: denial.index, retryAfterMs: denial.result.retryAfterMs, nowMs, states };
    return { allowed: true, retryAfterMs: 0, nowMs, states, ...(cached !== undefined ? { cached } : {}) };
  }

  async settle(req: SettleRequest): Promise<void> {
    if (!this.client.clustered) {
      await this.settleScript(req.member, req.admittedAt, req.counters, req.deltas, req.cacheStore);
      return;
    }
    const store = req.cacheStore;
    await Promise.all([
      ...groupsOf(req.counters).map((g) =>
        this.settleScript(req.member, req.admittedAt, pick(req.counters, g), pick(req.deltas, g), undefined),
      ),
      ...(store ? [this.client.setWithTtl(store.key, store.value, Math.max(1, Math.round(store.ttlMs)))] : []),
    ]);
  }

  async seed(counters: CounterSpec[], amounts: number[]): Promise<void> {
    const groups = this.client.clustered ? groupsOf(counters) : [counters.map((_, i) => i)];
    await Promise.all(
      groups.map((g) => {
        const keys = g.flatMap((i) => [(counters[i] as CounterSpec).key, markerOf(counters[i] as CounterSpec)]);
        const args: Array<string | number> = [g.length];
        for (const i of g)
          args.push(
            Math.max(0, Math.round(amounts[i] ?? 0)),
            Math.max(1, Math.round((counters[i] as CounterSpec).param)) + FIXED_GRACE_MS,
          );
        return this.client.run(SEED, keys, args);
      }),
    );
  }

  /** Gives back what the admitting groups of a refused request took (its leases, its requests and tokens). */
  private async giveBack(req: AdmitRequest, groups: number[][], results: AdmitResult[], hit: boolean): Promise<void> {
    await Promise.all(
      results.map(async (r, gi) => {
        if (!r.allowed) return;
        const counters = pick(req.counters, groups[gi] as number[]);
        const deltas = counters.map((c) => (hit && c.skipOnHit ? 0 : -c.amount));
        try {
          await this.settleScript(req.member, r.nowMs, counters, deltas, undefined);
        } catch {
          // Leases expire on their own, window amounts with their window: the counters stay conservative.
        }
      }),
    );
  }

  private async admitScript(
    member: string,
    counters: readonly CounterSpec[],
    useCache: 0 | 1 | 2,
    cacheKey: string | undefined,
    check: boolean,
  ): Promise<AdmitResult> {
    const keys = counters.map((c) => c.key);
    const args: Array<string | number> = [member, counters.length, useCache, check ? 1 : 0];
    for (const c of counters) args.push(KIND[c.kind], c.limit, c.amount, c.param, c.skipOnHit ? 1 : 0);
    if (cacheKey && useCache === 1) keys.push(cacheKey);
    if (check) keys.push(...counters.map(markerOf));
    const r = (await this.client.run(ADMIT, keys, args)) as Array<number | string | null>;
    const n = counters.length;
    if (r[0] === -1)
      return { allowed: false, retryAfterMs: 0, nowMs: 0, states: [], unseeded: r.slice(1).map((i) => Number(i) - 1) };
    const states = [];
    for (let i = 0; i < n; i++) states.push({ remaining: Number(r[4 + 2 * i]), resetMs: Number(r[5 + 2 * i]) });
    const cached = r[4 + 2 * n];
    const denied = Number(r[1]);
    return {
      allowed: r[0] === 1,
      ...(denied > 0 ? { denied: denied - 1 } : {}),
      retryAfterMs: Number(r[2]),
      nowMs: Number(r[3]),
      states,
      ...(typeof cached === 'string' ? { cached } : {}),
    };
  }

  private async settleScript(
    member: string,
    admittedAt: number,
    counters: readonly CounterSpec[],
    deltas: readonly number[],
    store: SettleRequest['cacheStore'],
  ): Promise<void> {
    const keys = counters.map((c) => c.key);
    const args: Array<string | number> = [
      member,
      counters.length,
      admittedAt,
      store ? store.value : '',
      store ? Math.max(1, Math.round(store.ttlMs)) : 0,
    ];
    counters.forEach((c, i) => {
      args.push(KIND[c.kind], Math.round(deltas[i] ?? 0), c.param);
    });
    if (store) keys.push(store.key);
    await this.client.run(SETTLE, keys, args);
  }
}
