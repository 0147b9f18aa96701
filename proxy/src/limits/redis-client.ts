/**
 * The Redis connection used for rate limits and the cache. Configured never to queue or hang: commands fail at once
 * while disconnected (`enableOfflineQueue: false`), are not retried (`maxRetriesPerRequest: 0`), and time out fast
 * (`commandTimeout`), so callers can apply their failure mode; ioredis reconnects in the background and the next
 * command after it is back succeeds. Up/down transitions are logged once each, never per request.
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { StoreUnavailableError } from './types.js';

export interface RedisClientOptions {
  url: string;
  log: Logger;
  /** Per-command timeout, ms. Default 1000. */
  commandTimeoutMs?: number;
  /** Called on every up/down transition. */
  onState?(up: boolean): void;
}

/** A Lua script with its SHA-1, run with EVALSHA (falling back to EVAL after a Redis restart flushed it). */
export interface LuaScript {
  source: string;
  sha: string;
}

export const luaScript = (source: string): LuaScript => ({
  source,
  sha: createHash('sha1').update(source).digest('hex'),
});

/** Redis connection with command counting and state tracking. */
export class RedisClient {
  readonly redis: Redis;
  /** Commands sent (round-trips), for benchmarks and tests. */
  commands = 0;
  private wasUp = false;
  private downLogged = false;

  constructor(private readonly opts: RedisClientOptions) {
    this.redis = new Redis(opts.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: opts.commandTimeoutMs ?? 1000,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(50 * times, 1000),
    });
    this.redis.on('ready', () => {
      if (this.wasUp) return;
      this.wasUp = true;
      this.downLogged = false;
      opts.log.info('redis connected');
      opts.onState?.(true);
    });
    this.redis.on('error', (e: Error) => this.down(e.message));
    this.redis.on('close', () => this.down('connection closed'));
  }

  private down(reason: string) {
    if (this.wasUp) {
      this.wasUp = false;
      this.opts.onState?.(false);
    }
    if (!this.downLogged) {
      this.downLogged = true;
      this.opts.log.warn({ reason }, 'redis unavailable: rate limits use each policy failure mode until it is back');
    }
  }

  get up(): boolean {
    return this.redis.status === 'ready';
  }

  /** Runs `script`; throws StoreUnavailableError when Redis cannot answer. */
  async run(script: LuaScript, keys: string[], args: Array<string | number>): Promise<unknown> {
    if (!this.up) throw new StoreUnavailableError(`redis is ${this.redis.status}`);
    try {
      this.commands++;
      return await this.redis.evalsha(script.sha, keys.length, ...keys, ...args);
    } catch (e) {
      if (e instanceof Error && e.message.startsWith('NOSCRIPT')) {
        try {
          this.commands++;
          return await this.redis.eval(script.source, keys.length, ...keys, ...args);
        } catch (e2) {
          throw new StoreUnavailableError('redis script failed', { cause: e2 });
        }
      }
      throw new StoreUnavailableError(e instanceof Error ? e.message : 'redis command failed', { cause: e });
    }
  }

  /** Resolves true once connected, false after `timeoutMs`. */
  ready(timeoutMs: number): Promise<boolean> {
    if (this.up) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (v: boolean) => {
        clearTimeout(timer);
        this.redis.off('ready', onReady);
        resolve(v);
      };
      const onReady = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.redis.on('ready', onReady);
    });
  }

  async close(): Promise<void> {
    this.redis.removeAllListeners('close');
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}
