import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../../test/support/redis.js';
import { waitFor } from '../../../test/support/wait.js';
import { RedisClient } from './redis-client.js';
import { ReplicaLeases } from './replica-leases.js';

const log = pino({ level: 'silent' });
let redis: TestRedis;
let client: RedisClient;
let seq = 0;
const replica = (fleetCap: number) => ({ key: `r${++seq}|http://10.0.0.1:8000/v1`, fleetCap });

beforeAll(async () => {
  redis = await startRedis();
  client = new RedisClient({ url: redis.url, log });
  await client.ready(5000);
});
afterAll(async () => {
  await client?.close();
  await redis?.close();
});

describe('ReplicaLeases (exact fleet-wide caps in Redis)', () => {
  it('grants up to the cap across proxies, and again once a lease is given back', async () => {
    const [a, b] = [
      new ReplicaLeases(client, { keyPrefix: 'rl:', log }),
      new ReplicaLeases(client, { keyPrefix: 'rl:', log }),
    ];
    const r = replica(2);
    const first = await a.acquire(r);
    const second = await b.acquire(r);
    expect([typeof first, typeof second]).toEqual(['string', 'string']);
    expect(first).not.toBe(second);
    expect(await a.acquire(r)).toEqual({ full: true });
    expect(await b.acquire(r)).toEqual({ full: true });
    expect(b.denied).toBe(1);
    a.release(r, first as string);
    await waitFor(async () => typeof (await b.acquire(r)) === 'string', 5000, 'a slot given back');
    expect(await a.acquire(r)).toEqual({ full: true });
    a.close();
    b.close();
  });

  it('renews the leases it holds; a proxy that stops renewing loses them after the TTL', async () => {
    // Renewed 30 times per TTL: a loaded machine's late timers do not let a live holder's lease lapse.
    const holder = new ReplicaLeases(client, { keyPrefix: 'rl:', log, ttlMs: 1500, renewMs: 50 });
    const other = new ReplicaLeases(client, { keyPrefix: 'rl:', log, ttlMs: 1500, renewMs: 50 });
    const r = replica(1);
    const name = await holder.acquire(r);
    expect(typeof name).toBe('string');
    const key = `rl:cap:{${r.key}}`;
    const expiry = Number(await client.redis.zscore(key, name as string));
    await waitFor(async () => Number(await client.redis.zscore(key, name as string)) > expiry, 5000, 'a renewal');
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
