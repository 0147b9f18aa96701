/** One pooled keep-alive undici client per upstream origin, shared by every request to that origin. */
import { Pool } from 'undici';

export interface UpstreamPoolOptions {
  /** Most sockets per origin. */
  connections?: number;
  keepAliveTimeoutMs?: number;
}

export class UpstreamPools {
  private readonly pools = new Map<string, Pool>();
  constructor(private readonly opts: UpstreamPoolOptions = {}) {}

  /** The pool for `origin` (scheme://host:port) with the given connect timeout. */
  get(origin: string, connectTimeoutMs: number): Pool {
    const key = `${origin}|${connectTimeoutMs}`;
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new Pool(origin, {
        connections: this.opts.connections ?? 256,
        pipelining: 1,
        keepAliveTimeout: this.opts.keepAliveTimeoutMs ?? 30_000,
        connect: { timeout: connectTimeoutMs },
        // Our own timers enforce first-byte / idle / total per backend.
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      this.pools.set(key, pool);
    }
    return pool;
  }

  /** Closes pools of origins no longer in use (after their in-flight requests finish). */
  retain(origins: ReadonlySet<string>): void {
    for (const [key, pool] of this.pools) {
      if (!origins.has(key.slice(0, key.indexOf('|')))) {
        this.pools.delete(key);
        void pool.close().catch(() => undefined);
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close().catch(() => undefined)));
    this.pools.clear();
  }
}
