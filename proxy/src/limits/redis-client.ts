/**
 * The Redis connection used for rate limits and the cache: one server, the master a set of Sentinels names, or a
 * Redis Cluster (redis-target.ts). Configured never to queue or hang: commands fail at once while disconnected
 * (`enableOfflineQueue: false`), are not retried (`maxRetriesPerRequest: 0`), and time out fast (`commandTimeout`),
 * so callers can apply their failure mode; ioredis reconnects in the background (to the new master after a
 * Sentinel failover, to the slots' new owners in a Cluster) and the next command after it is back succeeds. Up/down
 * transitions are logged once each, never per request. In a Cluster every script's keys must share one hash slot
 * (`clustered`: the stores then group their keys by hash tag).
 */
import { createHash } from 'node:crypto';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { parseRedisUrl, type RedisTarget } from './redis-target.js';
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

function connect(target: RedisTarget, commandTimeout: number): Redis | Cluster {
  const common: RedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout,
    connectTimeout: 2000,
    ...(target.username ? { username: target.username } : {}),
    ...(target.password ? { password: target.password } : {}),
    ...(target.tls ? { tls: {} } : {}),
  };
  const retryStrategy = (times: number) => Math.min(50 * times, 1000);
  switch (target.mode) {
    case 'single':
      return new Redis(target.url, { ...common, retryStrategy });
    case 'sentinel':
      return new Redis({
        ...common,
        retryStrategy,
        sentinels: target.sentinels,
        name: target.master,
        db: target.db,
        ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword } : {}),
        ...(target.tls ? { enableTLSForSentinelMode: true } : {}),
        sentinelRetryStrategy: retryStrategy,
        // A +switch-master from the Sentinels reconnects at once instead of waiting for the old master to fail.
        failoverDetector: true,
      });
    case 'cluster': {
      const { enableOfflineQueue: _offline, ...redisOptions } = common;
      return new Cluster(target.nodes, {
        enableOfflineQueue: false,
        clusterRetryStrategy: retryStrategy,
        slotsRefreshTimeout: 2000,
        redisOptions,
      });
    }
  }
}

/** Redis connection with command counting and state tracking. */
export class RedisClient {
  readonly redis: Redis | Cluster;
  /** A Redis Cluster: every script must touch keys of one hash slot. */
  readonly clustered: boolean;
  /** Commands sent (round-trips), for benchmarks and tests. */
  commands = 0;
  private wasUp = false;
  private downLogged = false;

  constructor(private readonly opts: RedisClientOptions) {
    const target = parseRedisUrl(opts.url);
    this.clustered = target.mode === 'cluster';
    this.redis = connect(target, opts.commandTimeoutMs ?? 1000);
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

  /** GET; throws StoreUnavailableError when Redis cannot answer. */
  async get(key: string): Promise<string | null> {
    return this.guard(() => this.redis.get(key));
  }

  /** SET with an expiry in ms; throws StoreUnavailableError when Redis cannot answer. */
  async setWithTtl(key: string, value: string, ttlMs: number): Promise<void> {
    await this.guard(() => this.redis.set(key, value, 'PX', ttlMs));
  }

  private async guard<T>(command: () => Promise<T>): Promise<T> {
    if (!this.up) throw new StoreUnavailableError(`redis is ${this.redis.status}`);
    try {
      this.commands++;
      return await command();
    } catch (e) {
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
