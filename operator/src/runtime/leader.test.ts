import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/clock.js';
import { ApiError, type KubeClient, type RequestOptions } from '../k8s/client.js';
import type { Lease } from '../k8s/objects.js';
import { LeaderElector } from './leader.js';

/**
 * An in-memory apiserver for one Lease, with optimistic concurrency on resourceVersion. Like the real client it
 * hands out decoded JSON as the type the caller asks for (the `as T` below is that decoding).
 */
function leaseServer() {
  let lease: Lease | undefined;
  let rv = 0;
  const store = (body: Lease): Lease => {
    lease = { ...body, metadata: { ...body.metadata, resourceVersion: String(++rv) } };
    return lease;
  };
  const client: KubeClient = {
    async request<T>(method: string, _path: string, opts?: RequestOptions): Promise<T> {
      if (method === 'GET') {
        if (!lease) throw new ApiError(404, 'NotFound', 'not found');
        return structuredClone(lease) as T;
      }
      const body: Lease = structuredClone(opts?.body as Lease);
      if (method === 'POST') {
        if (lease) throw new ApiError(409, 'AlreadyExists', 'exists');
        return store(body) as T;
      }
      if (body.metadata.resourceVersion !== lease?.metadata.resourceVersion)
        throw new ApiError(409, 'Conflict', 'stale');
      return store(body) as T;
    },
    watch: async () => {},
  };
  return { client, holder: () => lease?.spec?.holderIdentity };
}

/**
 * `server`'s client for one candidate, which can be cut off (every request then hangs forever, ignoring its
 * timeout and abort signal: a black-holed connection, a stuck credential plugin) or crash (every request fails).
 * Records when this candidate last wrote the Lease successfully and the timeouts its requests asked for.
 */
function breakable(server: KubeClient, clock: FakeClock) {
  let mode: 'ok' | 'cut' | 'crashed' = 'ok';
  const state = { lastWrite: 0, timeouts: [] as number[] };
  const client: KubeClient = {
    async request<T>(method: string, path: string, opts?: RequestOptions): Promise<T> {
      if (mode === 'crashed') throw new Error('connection refused');
      if (mode === 'cut') {
        state.timeouts.push(opts?.timeoutMs ?? Number.POSITIVE_INFINITY);
        return new Promise<T>(() => {});
      }
      const res = await server.request<T>(method, path, opts);
      if (method !== 'GET') state.lastWrite = clock.now();
      return res;
    },
    watch: async () => {},
  };
  return {
    client,
    state,
    cut: () => {
      mode = 'cut';
    },
    crash: () => {
      mode = 'crashed';
    },
  };
}

const electors: LeaderElector[] = [];
afterEach(async () => {
  await Promise.all(electors.splice(0).map((e) => e.release()));
});

const LEASE_MS = 1000;
const RENEW_DEADLINE_MS = 600;
const RETRY_MS = 50;

/** A candidate on `clock`; `events` records 'x leads' / 'x stopped', `at` the clock time of each. */
function candidate(client: KubeClient, identity: string, clock: FakeClock, events: string[], at = new Map()) {
  const record = (what: string) => {
    events.push(what);
    at.set(what, clock.now());
  };
  const e = new LeaderElector(client, {
    namespace: 'sys',
    name: 'lock',
    identity,
    leaseDurationMs: LEASE_MS,
    renewDeadlineMs: RENEW_DEADLINE_MS,
    retryPeriodMs: RETRY_MS,
    clock,
    onStartedLeading: () => record(`${identity} leads`),
    onStoppedLeading: () => record(`${identity} stopped`),
  });
  electors.push(e);
  return e;
}

/** Candidate `a` leading through a client the test can cut off or crash. */
async function leaderOverBreakableClient() {
  const clock = new FakeClock();
  const server = leaseServer();
  const a = breakable(server.client, clock);
  const events: string[] = [];
  const at = new Map<string, number>();
  const leader = candidate(a.client, 'a', clock, events, at);
  leader.start();
  await clock.advanceUntil(() => leader.isLeader, RETRY_MS, RETRY_MS, 'a to lead');
  return { clock, server, a, events, at, leader };
}

describe('LeaderElector', () => {
  it('elects exactly one leader; release hands over to the standby at its next retry', async () => {
    const clock = new FakeClock();
    const server = leaseServer();
    const events: string[] = [];
    const a = candidate(server.client, 'a', clock, events);
    const b = candidate(server.client, 'b', clock, events);
    a.start();
    await clock.advanceUntil(() => a.isLeader, RETRY_MS, RETRY_MS, 'a to lead');
    b.start();
    await clock.advance(3 * LEASE_MS); // a keeps renewing: b never gets the Lease
    expect(b.isLeader).toBe(false);
    expect(server.holder()).toBe('a');
    await a.release();
    // no need to wait for the lease to expire: b takes the released Lease at its next attempt
    const took = await clock.advanceUntil(() => b.isLeader, 1, RETRY_MS, 'b to lead');
    expect(took).toBeLessThanOrEqual(RETRY_MS);
    expect(server.holder()).toBe('b');
    expect(events).toEqual(['a leads', 'b leads']);
  });

  it('the standby takes over once the lease has expired after the leader stopped renewing', async () => {
    const { clock, server, a, events, at } = await leaderOverBreakableClient();
    const b = candidate(server.client, 'b', clock, events, at);
    b.start();
    await clock.advance(2 * RETRY_MS); // b has observed a's renewals
    a.crash(); // a's process is gone: its renewals fail
    const crashedAt = clock.now();
    await clock.advanceUntil(() => b.isLeader, 1, 2 * LEASE_MS, 'b to lead');
    // b waits out the lease duration since the last renewal it observed, then takes over at its next retry
    const since = (at.get('b leads') as number) - crashedAt;
    expect(since).toBeGreaterThan(LEASE_MS - RETRY_MS);
    expect(since).toBeLessThanOrEqual(LEASE_MS + 2 * RETRY_MS);
    expect(server.holder()).toBe('b');
  });

  it('a leader cut off from the apiserver steps down by its renew deadline, though its requests never return', async () => {
    const { clock, a, events, at, leader } = await leaderOverBreakableClient();
    await clock.advance(3 * RETRY_MS); // a few renewals
    a.cut();
    await clock.advanceUntil(() => !leader.isLeader, 1, 2 * LEASE_MS, 'a to step down');
    expect(events).toEqual(['a leads', 'a stopped']);
    // The safety property itself: it stopped leading by its renew deadline after its last renewal, before the
    // Lease could be taken over (the lease duration since then). The next test checks it as an order of events.
    const sinceRenewal = (at.get('a stopped') as number) - a.state.lastWrite;
    expect(sinceRenewal).toBeLessThanOrEqual(RENEW_DEADLINE_MS);
    // no request may outlive the renew deadline
    expect(a.state.timeouts.length).toBeGreaterThan(0);
    for (const t of a.state.timeouts) expect(t).toBeLessThanOrEqual(RENEW_DEADLINE_MS);
    await leader.release(); // not stuck behind the hung request (it would hang this test)
  });

  it('a partitioned leader stops before the standby takes over', async () => {
    const { clock, server, a, events, at } = await leaderOverBreakableClient();
    const standby = candidate(server.client, 'b', clock, events, at);
    standby.start();
    await clock.advance(4 * RETRY_MS); // b has observed a's renewals
    a.cut();
    await clock.advanceUntil(() => standby.isLeader, 1, 2 * LEASE_MS, 'b to lead');
    expect(events).toEqual(['a leads', 'a stopped', 'b leads']);
    // never two leaders: a stopped at least the lease duration minus the renew deadline before b started
    const gap = (at.get('b leads') as number) - (at.get('a stopped') as number);
    expect(gap).toBeGreaterThanOrEqual(LEASE_MS - RENEW_DEADLINE_MS - RETRY_MS);
    expect(server.holder()).toBe('b');
  });

  it('refuses a renew deadline that is not shorter than the lease duration', () => {
    const server = leaseServer();
    const opts = { namespace: 'sys', name: 'lock', identity: 'a', onStartedLeading() {}, onStoppedLeading() {} };
    expect(() => new LeaderElector(server.client, { ...opts, leaseDurationMs: 1000, renewDeadlineMs: 1000 })).toThrow(
      /leaseDuration > renewDeadline/,
    );
  });
});
