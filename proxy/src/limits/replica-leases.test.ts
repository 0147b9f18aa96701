import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/clock.js';
import type { LuaScript } from './redis-client.js';
import { type LeaseClient, ReplicaLeases } from './replica-leases.js';
import { StoreUnavailableError } from './types.js';

/** An in-memory stand-in for Redis that grants every lease; `calls` are the scripts' first words and arguments. */
function fakeRedis() {
  const calls: Array<{ at: number; script: string; args: Array<string | number> }> = [];
  let failing = false;
  const clock = new FakeClock(0);
  const client: LeaseClient = {
    up: true,
    run: async (script: LuaScript, _keys: string[], args: Array<string | number>) => {
      calls.push({ at: clock.now(), script: script.source.includes("'TIME'") ? 'timed' : 'release', args });
      if (failing) throw new StoreUnavailableError('redis down');
      return [1, 1];
    },
  };
  return { clock, calls, client, fail: () => void (failing = true) };
}

const replica = { key: 'ns/b/0', fleetCap: 2 };
const log = pino({ level: 'silent' });

describe('replica leases', () => {
  it('renew the leases held every renewal period of the clock', async () => {
    const { clock, calls, client } = fakeRedis();
    const leases = new ReplicaLeases(client, { keyPrefix: 'sy:', log, renewMs: 100, ttlMs: 300, clock });
    const member = await leases.acquire(replica);
    expect(typeof member).toBe('string');
    await clock.advance(99);
    expect(calls).toHaveLength(1);
    await clock.advance(1);
    expect(calls.slice(1)).toEqual([{ at: 100, script: 'timed', args: [300, member] }]);
    leases.release(replica, member as string);
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
    expect(await leases.acquire(replica)).toEqual({ full: false });
    await clock.advance(999);
    expect(leases.active()).toBe(false);
    await clock.advance(1);
    expect(leases.active()).toBe(true);
    leases.close();
  });
});
