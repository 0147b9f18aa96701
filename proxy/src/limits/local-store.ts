/**
 * LimitStore in this process's memory, with the same semantics as the Redis scripts (lua.ts). Used when no Redis
 * is configured, and by fail-open policies while Redis is unreachable: limits then hold per replica.
 */
import { MemoryCache } from './memory-cache.js';
import type { AdmitRequest, AdmitResult, CounterSpec, CounterState, LimitStore, SettleRequest } from './types.js';

const B = 1000;

export class LocalLimitStore implements LimitStore {
  readonly source = 'local' as const;
  private readonly windows = new Map<string, Map<number, number>>();
  private readonly leases = new Map<string, Map<string, number>>();
  private readonly fixed = new Map<string, { value: number; expiresAt: number }>();
  private admits = 0;

  constructor(
    readonly cache = new MemoryCache(),
    private readonly clock: () => number = Date.now,
  ) {}

  private window(key: string, span: number, now: number): Map<number, number> {
    let w = this.windows.get(key);
    if (!w) {
      w = new Map();
      this.windows.set(key, w);
    }
    const cur = Math.floor(now / B);
    for (const b of w.keys()) if (b <= cur - span) w.delete(b);
    return w;
  }

  private leaseSet(key: string, now: number): Map<string, number> {
    let l = this.leases.get(key);
    if (!l) {
      l = new Map();
      this.leases.set(key, l);
    }
    for (const [m, exp] of l) if (exp <= now) l.delete(m);
    return l;
  }

  private fixedValue(key: string, now: number): number {
    const f = this.fixed.get(key);
    if (f && f.expiresAt <= now) this.fixed.delete(key);
    return f && f.expiresAt > now ? f.value : 0;
  }

  /** Used amount, reset and wait (0 fits, -1 never) of one counter. */
  private check(c: CounterSpec, amount: number, now: number): { used: number; reset: number; wait: number } {
    if (c.kind === 'window') {
      const span = Math.floor(c.param / B);
      const live = [...this.window(c.key, span, now).entries()].sort((a, b) => a[0] - b[0]);
      const used = live.reduce((s, [, v]) => s + v, 0);
      const reset = live[0] ? (live[0][0] + span) * B - now : c.param;
      let wait = 0;
      if (amount > 0 && used + amount > c.limit) {
        wait = -1;
        if (amount <= c.limit) {
          let left = used;
          for (const [b, v] of live) {
            left -= v;
            if (left + amount <= c.limit) {
              wait = (b + span) * B - now;
              break;
            }
          }
        }
      }
      return { used, reset, wait };
    }
    if (c.kind === 'concurrency') {
      const used = this.leaseSet(c.key, now).size;
      return { used, reset: 1000, wait: amount > 0 && used + amount > c.limit ? 1000 : 0 };
    }
    const used = this.fixedValue(c.key, now);
    return { used, reset: c.param, wait: used + amount > c.limit || used >= c.limit ? c.param : 0 };
  }

  /** Drops counters with nothing left in them (client-chosen model names must not grow memory forever). */
  private sweep(now: number) {
    const cur = Math.floor(now / B);
    for (const [k, w] of this.windows) {
      for (const b of w.keys()) if (b <= cur - 3600) w.delete(b);
      if (w.size === 0) this.windows.delete(k);
    }
    for (const k of this.leases.keys()) if (this.leaseSet(k, now).size === 0) this.leases.delete(k);
    for (const [k, f] of this.fixed) if (f.expiresAt <= now) this.fixed.delete(k);
  }

  async admit(req: AdmitRequest): Promise<AdmitResult> {
    const now = this.clock();
    if (++this.admits % 1000 === 0) this.sweep(now);
    const cached = req.cacheKey ? this.cache.get(req.cacheKey, now) : undefined;
    const amounts = req.counters.map((c) => (cached !== undefined && c.skipOnHit ? 0 : c.amount));
    let denied = -1;
    let retryAfterMs = 0;
    const checks = req.counters.map((c, i) => {
      const r = this.check(c, amounts[i] ?? 0, now);
      if (r.wait !== 0 && (denied < 0 || r.wait === -1 || (retryAfterMs !== -1 && r.wait > retryAfterMs))) {
        denied = i;
        retryAfterMs = r.wait;
      }
      return r;
    });
    const states: CounterState[] = req.counters.map((c, i) => {
      const check = checks[i] ?? { used: 0, reset: 0 };
      const amount = denied < 0 ? (amounts[i] ?? 0) : 0;
      if (amount > 0) this.take(c, amount, req.member, now);
      return { remaining: Math.max(0, c.limit - check.used - amount), resetMs: check.reset };
    });
    return {
      allowed: denied < 0,
      ...(denied >= 0 ? { denied } : {}),
      retryAfterMs,
      nowMs: now,
      states,
      ...(denied < 0 && cached !== undefined ? { cached } : {}),
    };
  }

  private take(c: CounterSpec, amount: number, member: string, now: number) {
    if (c.kind === 'window') {
      const w = this.window(c.key, Math.floor(c.param / B), now);
      const b = Math.floor(now / B);
      w.set(b, (w.get(b) ?? 0) + amount);
    } else if (c.kind === 'concurrency') this.leaseSet(c.key, now).set(member, now + c.param);
    else this.fixed.set(c.key, { value: this.fixedValue(c.key, now) + amount, expiresAt: now + c.param });
  }

  async settle(req: SettleRequest): Promise<void> {
    const now = this.clock();
    req.counters.forEach((c, i) => {
      const delta = Math.round(req.deltas[i] ?? 0);
      if (c.kind === 'concurrency') this.leases.get(c.key)?.delete(req.member);
      else if (delta !== 0 && c.kind === 'window') {
        const span = Math.floor(c.param / B);
        const w = this.window(c.key, span, now);
        const bucket = Math.floor(req.admittedAt / B);
        const target = bucket > Math.floor(now / B) - span ? bucket : delta > 0 ? Math.floor(now / B) : undefined;
        if (target !== undefined) {
          const v = (w.get(target) ?? 0) + delta;
          if (v > 0) w.set(target, v);
          else w.delete(target);
        }
      } else if (delta !== 0 && c.kind === 'fixed') {
        const f = this.fixed.get(c.key);
        if (f) f.value += delta;
        else if (delta > 0) this.fixed.set(c.key, { value: delta, expiresAt: now + c.param });
      }
    });
    if (req.cacheStore) this.cache.set(req.cacheStore.key, req.cacheStore.value, req.cacheStore.ttlMs, now);
  }
}
