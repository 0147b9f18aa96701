/** LimitStore over Redis: counters exact across every proxy replica sharing it (see lua.ts for the algorithm). */
import { ADMIT_SCRIPT, SEED_SCRIPT, SETTLE_SCRIPT } from './lua.js';
import { luaScript, type RedisClient } from './redis-client.js';
import type { AdmitRequest, AdmitResult, CounterSpec, LimitStore, SettleRequest } from './types.js';

const ADMIT = luaScript(ADMIT_SCRIPT);
const SETTLE = luaScript(SETTLE_SCRIPT);
const SEED = luaScript(SEED_SCRIPT);
/** The key marking a budget counter as seeded from the ledger since Redis last lost it. */
const markerOf = (c: CounterSpec) => `${c.key}:seeded`;
/** How long past its period a budget counter (and its marker) is kept. */
const FIXED_GRACE_MS = 60_000;
const KIND: Record<CounterSpec['kind'], string> = { window: 'w', concurrency: 'c', fixed: 'f' };

export class RedisLimitStore implements LimitStore {
  readonly source = 'redis' as const;

  constructor(private readonly client: RedisClient) {}

  async admit(req: AdmitRequest): Promise<AdmitResult> {
    const keys = req.counters.map((c) => c.key);
    const check = req.checkSeeded === true;
    const args: Array<string | number> = [req.member, req.counters.length, req.cacheKey ? 1 : 0, check ? 1 : 0];
    for (const c of req.counters) args.push(KIND[c.kind], c.limit, c.amount, c.param, c.skipOnHit ? 1 : 0);
    if (req.cacheKey) keys.push(req.cacheKey);
    if (check) keys.push(...req.counters.map(markerOf));
    const r = (await this.client.run(ADMIT, keys, args)) as Array<number | string | null>;
    const n = req.counters.length;
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

  async settle(req: SettleRequest): Promise<void> {
    const keys = req.counters.map((c) => c.key);
    const store = req.cacheStore;
    const args: Array<string | number> = [
      req.member,
      req.counters.length,
      req.admittedAt,
      store ? store.value : '',
      store ? Math.max(1, Math.round(store.ttlMs)) : 0,
    ];
    req.counters.forEach((c, i) => {
      args.push(KIND[c.kind], Math.round(req.deltas[i] ?? 0), c.param);
    });
    if (store) keys.push(store.key);
    await this.client.run(SETTLE, keys, args);
  }

  async seed(counters: CounterSpec[], amounts: number[]): Promise<void> {
    const keys = counters.flatMap((c) => [c.key, markerOf(c)]);
    const args: Array<string | number> = [counters.length];
    counters.forEach((c, i) => {
      args.push(Math.max(0, Math.round(amounts[i] ?? 0)), Math.max(1, Math.round(c.param)) + FIXED_GRACE_MS);
    });
    await this.client.run(SEED, keys, args);
  }
}
