/** LimitStore over Redis: counters exact across every proxy replica sharing it (see lua.ts for the algorithm). */
import { ADMIT_SCRIPT, SETTLE_SCRIPT } from './lua.js';
import { luaScript, type RedisClient } from './redis-client.js';
import type { AdmitRequest, AdmitResult, CounterSpec, LimitStore, SettleRequest } from './types.js';

const ADMIT = luaScript(ADMIT_SCRIPT);
const SETTLE = luaScript(SETTLE_SCRIPT);
const KIND: Record<CounterSpec['kind'], string> = { window: 'w', concurrency: 'c', fixed: 'f' };

export class RedisLimitStore implements LimitStore {
  readonly source = 'redis' as const;

  constructor(private readonly client: RedisClient) {}

  async admit(req: AdmitRequest): Promise<AdmitResult> {
    const keys = req.counters.map((c) => c.key);
    const args: Array<string | number> = [req.member, req.counters.length, req.cacheKey ? 1 : 0];
    for (const c of req.counters) args.push(KIND[c.kind], c.limit, c.amount, c.param, c.skipOnHit ? 1 : 0);
    if (req.cacheKey) keys.push(req.cacheKey);
    const r = (await this.client.run(ADMIT, keys, args)) as Array<number | string | null>;
    const n = req.counters.length;
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
}
