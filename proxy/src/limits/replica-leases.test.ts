import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/clock.js';
import { useRedisClient } from '../../../test/support/redis-client.js';
import { waitFor } from '../../../test/support/wait.js';
import type { LeaseEvent } from '../call/observers.js';
import { type LuaScript, RedisClient } from './redis-client.js';
import { type LeaseClient, ReplicaLeases } from './replica-leases.js';
import { StoreUnavailableError } from './types.js';

const log = pino({ level: 'silent' });
const file = useRedisClient(log);
let seq = 0;
const replica = (fleetCap: number) => ({ key: `r${++seq}|http://10.0.0.1:8000/v1`, fleetCap, backend: { id: 'ns/b' } });

describe('ReplicaLeases (exact fleet-wide caps in Redis)', () => {
  it('grants up to the cap across proxies, and again once a lease is given back', async () => {
    const refused: string[] = [];
    const onEvent = (backend: string, e: LeaseEvent) => (e.kind === 'full' ? refused.push(backend) : undefined);
    const [a, b] = [
      new ReplicaLeases(file.client, { keyPrefix: 'rl:', log }),
      new ReplicaLeases(file.client, { keyPrefix: 'rl:', log, onEvent }),
    ];
    const r = replica(2);
    const first = await a.acquire(r);
    const second = await b.acquire(r);
    expect([typeof first, typeof second]).toEqual(['string', 'string']);
    expect(first).not.toBe(second);
    expect(await a.acquire(r)).toEqual({ full: true });
    expect(await b.acquire(r)).toEqual({ full: true });
    expect(refused).toEqual(['ns/b']);
    a.release(r, first as string);
    await waitFor(async () => typeof (await b.acquire(r)) === 'string', 5000, 'a slot given back');
    expect(await a.acquire(r)).toEqual({ full: true });
    a.close();
    b.close();
  });

  it('renews the leases it holds; a proxy that stops renewing loses them after the TTL', async () => {
    // Renewed 30 times per TTL: a loaded machine's late timers do not let a live holder's lease lapse.
    const holder = new ReplicaLeases(file.client, { keyPrefix: 'rl:', log, ttlMs: 1500, renewMs: 50 });
    const other = new ReplicaLeases(file.client, { keyPrefix: 'rl:', log, ttlMs: 1500, renewMs: 50 });
    const r = replica(1);
    const name = await holder.acquire(r);
    expect(typeof name).toBe('string');
    const key = `rl:cap:{${r.key}}`;
    const expiry = Number(await file.client.redis.zscore(key, name as string));
    await waitFor(async () => Number(await file.client.redis.zscore(key, name as string)) > expiry, 5000, 'a renewal');
    expect(await other.acquire(r)).toEqual({ full: true });
    holder.close(); // as a proxy that died: nobody renews or gives back its lease
    await waitFor(async () => typeof (await other.acquire(r)) === 'string', 5000, 'the dead proxy’s lease expired');
    other.close();
  });

  it('says Redis could not answer, and leasing stays off for the cool-down', async () => {
    const dead = new RedisClient({ url: 'redis://127.0.0.1:1', log, commandTimeoutMs: 200 });
    const leases = new ReplicaLeases(dead, { keyPrefix: 'rl:', log, cooldownMs: 60_000 });
    expect(await leases.acquire(replica(3))).toEqual({ full: false });
    expect(leases.active()).toBe(false);
    leases.close();
    await dead.close();
  });
});

/** An in-memory stand-in for Redis that grants every lease; `calls` are the scripts' first words and arguments. */
function fakeRedis() {
  const calls: Array<{ at: number; script: string; args: Array<string | number> }> = [];
  let failing = false;
  let down = false;
  const clock = new FakeClock(0);
  const client: LeaseClient = {
    get up() {
      return !down;
    },
    run: async (script: LuaScript, _keys: string[], args: Array<string | number>) => {
      calls.push({ at: clock.now(), script: script.source.includes("'TIME'") ? 'timed' : 'release', args });
      if (failing) throw new StoreUnavailableError('redis down');
      return [1, 1];
    },
  };
  return {
    clock,
    calls,
    client,
    fail: () => {
      failing = true;
    },
    disconnect: () => {
      down = true;
    },
  };
}

const leased = { key: 'ns/b/0', fleetCap: 2, backend: { id: 'ns/b' } };

describe('ReplicaLeases on a fake clock (an in-memory Redis)', () => {
  it('renew the leases held every renewal period of the clock', async () => {
    const { clock, calls, client } = fakeRedis();
    const leases = new ReplicaLeases(client, { keyPrefix: 'sy:', log, renewMs: 100, ttlMs: 300, clock });
    const member = await leases.acquire(leased);
    expect(typeof member).toBe('string');
    await clock.advance(99);
    expect(calls).toHaveLength(1);
    await clock.advance(1);
    expect(calls.slice(1)).toEqual([{ at: 100, script: 'timed', args: [300, member] }]);
    leases.release(leased, member as string);
    await clock.advance(100);
    // given back: nothing left to renew
    expect(calls.map((c) => c.script)).toEqual(['timed', 'timed', 'release']);
    leases.close();
    expect(clock.pending).toBe(0);
  });

  it('stay off for the cool-down after a failed call, then apply again', async () => {
    const { clock, client, fail } = fakeRedis();
    const leases = new ReplicaLeases(client, { keyPrefix: 'sy:', log, cooldownMs: 1000, clock });
    expect(leases.active()).toBe(true);
    fail();
    expect(await leases.acquire(leased)).toEqual({ full: false });
    await clock.advance(999);
    expect(leases.active()).toBe(false);
    await clock.advance(1);
    expect(leases.active()).toBe(true);
    leases.close();
  });

  it('tell each lease asked for with its round-trip, and why an attempt goes within the share', async () => {
    const { clock, client, fail, disconnect } = fakeRedis();
    const events: Array<[string, LeaseEvent]> = [];
    const leases = new ReplicaLeases(client, {
      keyPrefix: 'sy:',
      log,
      cooldownMs: 1000,
      clock,
      onEvent: (backend, event) => events.push([backend, event]),
    });
    expect(typeof (await leases.acquire(leased))).toBe('string');
    fail();
    expect(await leases.acquire(leased)).toEqual({ full: false });
    expect(leases.mode()).toBe('cooldown');
    leases.withinShare(leased);
    disconnect();
    expect(leases.mode()).toBe('down');
    leases.withinShare(leased);
    expect(events.map(([b, e]) => [b, e.kind])).toEqual([
      ['ns/b', 'granted'],
      ['ns/b', 'error'],
      ['ns/b', 'cooldown'],
      ['ns/b', 'down'],
    ]);
    for (const [, e] of events.slice(0, 2)) expect('seconds' in e && e.seconds >= 0).toBe(true);
    leases.close();
  });
});
