import { afterEach, describe, expect, it } from 'vitest';
import { ApiError, type KubeClient, type RequestOptions } from '../k8s/client.js';
import { LeaderElector } from './leader.js';

type Lease = { metadata: { name: string; namespace: string; resourceVersion?: string }; spec: Record<string, unknown> };

/** An in-memory apiserver for one Lease, with optimistic concurrency on resourceVersion. */
function leaseServer() {
  let lease: Lease | undefined;
  let rv = 0;
  const client: KubeClient = {
    async request<T>(method: string, _path: string, opts?: RequestOptions): Promise<T> {
      const body = structuredClone(opts?.body) as Lease | undefined;
      if (method === 'GET') {
        if (!lease) throw new ApiError(404, 'NotFound', 'not found');
        return structuredClone(lease) as T;
      }
      if (method === 'POST') {
        if (lease) throw new ApiError(409, 'AlreadyExists', 'exists');
        lease = { ...(body as Lease), metadata: { ...(body as Lease).metadata, resourceVersion: String(++rv) } };
        return lease as T;
      }
      if (body?.metadata.resourceVersion !== lease?.metadata.resourceVersion)
        throw new ApiError(409, 'Conflict', 'stale');
      lease = { ...(body as Lease), metadata: { ...(body as Lease).metadata, resourceVersion: String(++rv) } };
      return lease as T;
    },
    watch: async () => {},
  };
  return { client, holder: () => lease?.spec.holderIdentity };
}

async function until(cond: () => boolean, ms = 5000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timeout');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const electors: LeaderElector[] = [];
afterEach(async () => {
  await Promise.all(electors.splice(0).map((e) => e.release()));
});

function candidate(client: KubeClient, identity: string, events: string[]) {
  const e = new LeaderElector(client, {
    namespace: 'sys',
    name: 'lock',
    identity,
    leaseDurationMs: 1000,
    renewDeadlineMs: 600,
    retryPeriodMs: 50,
    onStartedLeading: () => events.push(`${identity} leads`),
    onStoppedLeading: () => events.push(`${identity} stopped`),
  });
  electors.push(e);
  return e;
}

describe('LeaderElector', () => {
  it('elects exactly one leader; release hands over to the standby at once', async () => {
    const server = leaseServer();
    const events: string[] = [];
    const a = candidate(server.client, 'a', events);
    const b = candidate(server.client, 'b', events);
    a.start();
    await until(() => a.isLeader);
    b.start();
    await new Promise((r) => setTimeout(r, 300));
    expect(b.isLeader).toBe(false);
    const t0 = Date.now();
    await a.release();
    await until(() => b.isLeader);
    expect(Date.now() - t0).toBeLessThan(500); // no need to wait for the 1 s lease to expire
    expect(server.holder()).toBe('b');
    expect(events).toEqual(['a leads', 'b leads']);
  });

  it('the standby takes over within the lease duration when the leader stops renewing', async () => {
    const server = leaseServer();
    const events: string[] = [];
    const a = candidate(server.client, 'a', events);
    a.start();
    await until(() => a.isLeader);
    const b = candidate(server.client, 'b', events);
    b.start();
    // Simulate a crash: a's renewals now fail (its process would be gone).
    const crashed = { ...server.client, request: async () => Promise.reject(new Error('connection refused')) };
    Object.assign(a, { client: crashed });
    const t0 = Date.now();
    await until(() => b.isLeader, 3000);
    expect(Date.now() - t0).toBeLessThan(1800); // lease 1 s + a retry period or two
    expect(server.holder()).toBe('b');
  });
});
