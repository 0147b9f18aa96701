/**
 * Exact fleet-wide replica caps (LLMBackend `maxConcurrencyMode: Exact`): a distributed semaphore in the shared
 * Redis, one sorted set per replica (`<prefix>cap:{<replica>}`, hash-tagged so a Cluster keeps it in one slot) whose
 * members are the attempts in flight to it from every proxy, scored by their expiry. An attempt takes a lease before
 * it is sent (one round-trip) and gives it back when it ends; the proxy renews the leases it holds every
 * `renewMs`, so a proxy that dies leaves its leases to expire after `ttlMs` at most.
 *
 * Failure mode: when Redis cannot answer, leasing is off for `cooldownMs` and each proxy keeps its share of the cap
 * (the Split mode) — never more than the cap while every proxy agrees Redis is down, possibly more while some still
 * lease and others count shares, until the leases of the former end.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { type Clock, systemClock, type Timer } from '../../../shared/src/clock.js';
import type { LeaseEvent } from '../call/observers.js';
import { luaScript, type RedisClient } from './redis-client.js';
import { StoreUnavailableError } from './types.js';

const ACQUIRE = luaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local held = redis.call('ZCARD', KEYS[1])
if held >= tonumber(ARGV[2]) then return { 0, held } end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return { 1, held + 1 }
`);

const RENEW = luaScript(`
local t = redis.call('TIME')
local until_ = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', until_, ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))
return 1
`);

const RELEASE = luaScript(`return redis.call('ZREM', KEYS[1], ARGV[1])`);

/** What a lease is taken on: a replica (an EndpointState) by its key, with its fleet-wide cap and its backend. */
export interface LeasedReplica {
  readonly key: string;
  readonly fleetCap: number;
  readonly backend: { readonly id: string };
}

/** Whether exact caps apply now, or why each proxy keeps its share: Redis down, or the cool-down after a failure. */
export type LeaseMode = 'active' | 'down' | 'cooldown';

/** A lease refused: `full` when every fleet-wide slot is taken, otherwise Redis could not answer. */
export interface LeaseRefusal {
  full: boolean;
}

export interface ReplicaLeasesOptions {
  keyPrefix: string;
  log: Logger;
  /** Expiry of a lease nobody renews (default 30 s). */
  ttlMs?: number;
  /** Renewal period of the leases this proxy holds (default 10 s). */
  renewMs?: number;
  /** After a failed Redis call, how long leasing stays off (default 1 s). */
  cooldownMs?: number;
  /** Clock of the renewals and the cool-down (default: the system clock). */
  clock?: Clock;
  /** Told of every lease request and every attempt sent within the share, by the replica's backend id (metrics). */
  onEvent?(backend: string, event: LeaseEvent): void;
}

/** What the leases need of the Redis client. */
export type LeaseClient = Pick<RedisClient, 'up' | 'run'>;

/** The leases of one proxy: taken per attempt, renewed while held, given back when the attempt ends. */
export class ReplicaLeases {
  /** Leases held by this proxy: key → members. */
  private readonly held = new Map<string, Set<string>>();
  private offUntil = 0;
  private readonly timer: Timer;
  private readonly clock: Clock;
  /** Names this proxy's leases apart from every other proxy's (request ids come from clients). */
  private readonly instance = randomUUID();
  private seq = 0;

  constructor(
    private readonly client: LeaseClient,
    private readonly opts: ReplicaLeasesOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
    this.timer = this.clock.every(opts.renewMs ?? 10_000, () => void this.renew(), { unref: true });
  }

  /** Whether exact caps apply now (Redis up and no recent failure); otherwise each proxy keeps its share. */
  active(): boolean {
    return this.mode() === 'active';
  }

  /** Whether exact caps apply now, or why not. */
  mode(): LeaseMode {
    if (!this.client.up) return 'down';
    return this.clock.now() < this.offUntil ? 'cooldown' : 'active';
  }

  /** An attempt to `e` (exact mode) is sent within this proxy's share, leasing being off: tells `onEvent` why. */
  withinShare(e: LeasedReplica): void {
    const mode = this.mode();
    if (mode !== 'active') this.opts.onEvent?.(e.backend.id, { kind: mode });
  }

  private keyOf(e: LeasedReplica): string {
    return `${this.opts.keyPrefix}cap:{${e.key}}`;
  }

  /** Asks for one of `e`'s fleet-wide slots: the lease's name, to give back with `release`, or why not. */
  async acquire(e: LeasedReplica): Promise<string | LeaseRefusal> {
    const key = this.keyOf(e);
    const member = `${this.instance}:${++this.seq}`;
    const startedAt = performance.now();
    const tell = (kind: 'granted' | 'full' | 'error') =>
      this.opts.onEvent?.(e.backend.id, { kind, seconds: (performance.now() - startedAt) / 1000 });
    try {
      const [ok] = (await this.client.run(ACQUIRE, [key], [member, e.fleetCap, this.opts.ttlMs ?? 30_000])) as [
        number,
        number,
      ];
      if (ok !== 1) {
        tell('full');
        return { full: true };
      }
      const members = this.held.get(key) ?? new Set<string>();
      members.add(member);
      this.held.set(key, members);
      tell('granted');
      return member;
    } catch (err) {
      this.failed(err);
      tell('error');
      return { full: false };
    }
  }

  /** Gives back a granted lease (not awaited: a lease Redis did not hear about expires). */
  release(e: LeasedReplica, member: string): void {
    const key = this.keyOf(e);
    const members = this.held.get(key);
    members?.delete(member);
    if (members?.size === 0) this.held.delete(key);
    this.client.run(RELEASE, [key], [member]).catch((err) => this.failed(err));
  }

  private async renew(): Promise<void> {
    const ttl = this.opts.ttlMs ?? 30_000;
    for (const [key, members] of this.held) {
      if (members.size === 0) continue;
      try {
        await this.client.run(RENEW, [key], [ttl, ...members]);
      } catch (err) {
        this.failed(err);
        return;
      }
    }
  }

  private failed(err: unknown): void {
    this.offUntil = this.clock.now() + (this.opts.cooldownMs ?? 1000);
    if (!(err instanceof StoreUnavailableError)) this.opts.log.warn({ err }, 'replica lease call failed');
  }

  close(): void {
    this.timer.cancel();
  }
}
