/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection: a candidate takes the Lease
 * when it has no holder or its holder has not renewed it for leaseDuration (measured on the local clock since the
 * record last changed, so clock skew between replicas does not matter); the leader renews every retryPeriod and
 * steps down when it could not renew for renewDeadline; release() empties the holder so a standby takes over at
 * once. Writes use the resourceVersion, so two candidates cannot both win.
 */
import type { Logger } from 'pino';
import { isStatus, type KubeClient } from '../k8s/client.js';
import { collectionPath, LEASES, objectPath } from '../k8s/resources.js';
import { sleep } from './backoff.js';

/** Options of leader election. */
export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  log?: Logger;
}

interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number;
    acquireTime?: string | null;
    renewTime?: string | null;
    leaseTransitions?: number;
  };
}

const microTime = (d = new Date()) => d.toISOString().replace('Z', '000Z');

export class LeaderElector {
  private leading = false;
  private observed = '';
  private observedAt = 0;
  private readonly abort = new AbortController();
  private stopped: Promise<void> | undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly opts: LeaderElectionOptions,
  ) {}

  get isLeader(): boolean {
    return this.leading;
  }

  private get leaseDurationMs() {
    return this.opts.leaseDurationMs ?? 15_000;
  }

  /** Runs the election loop in the background until release(). */
  start(): void {
    this.stopped = this.loop();
  }

  private async loop(): Promise<void> {
    const retry = this.opts.retryPeriodMs ?? 2_000;
    const renewDeadline = this.opts.renewDeadlineMs ?? 10_000;
    let lastRenew = 0;
    while (!this.abort.signal.aborted) {
      let ok = false;
      try {
        ok = await this.tryAcquireOrRenew();
      } catch (err) {
        this.opts.log?.warn({ err: String(err), lease: this.opts.name }, 'lease update failed');
      }
      if (this.abort.signal.aborted) break;
      const now = Date.now();
      if (ok) {
        lastRenew = now;
        if (!this.leading) {
          this.leading = true;
          this.opts.log?.info({ identity: this.opts.identity, lease: this.opts.name }, 'became leader');
          this.opts.onStartedLeading();
        }
      } else if (this.leading && now - lastRenew > renewDeadline) {
        this.leading = false;
        this.opts.log?.warn({ identity: this.opts.identity }, 'lost leadership (could not renew the Lease)');
        this.opts.onStoppedLeading();
      }
      await sleep(retry, this.abort.signal);
    }
  }

  /** One attempt; true when we hold the Lease afterwards. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.opts;
    const path = objectPath(LEASES, namespace, name);
    const now = new Date();
    const desired = (prev?: Lease['spec']): Lease['spec'] => ({
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      acquireTime: prev?.holderIdentity === identity && prev.acquireTime ? prev.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: (prev?.leaseTransitions ?? 0) + (prev && prev.holderIdentity !== identity ? 1 : 0),
    });
    let lease: Lease;
    try {
      lease = await this.client.request<Lease>('GET', path, { timeoutMs: 5_000 });
    } catch (err) {
      if (!isStatus(err, 404)) throw err;
      const body: Lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace },
        spec: desired(),
      };
      try {
        await this.client.request('POST', collectionPath(LEASES, namespace), { body, timeoutMs: 5_000 });
        return true;
      } catch (e) {
        if (isStatus(e, 409)) return false;
        throw e;
      }
    }
    const record = `${lease.spec.holderIdentity ?? ''}|${lease.spec.renewTime ?? ''}`;
    if (record !== this.observed) {
      this.observed = record;
      this.observedAt = Date.now();
    }
    const holder = lease.spec.holderIdentity ?? '';
    const durationMs = (lease.spec.leaseDurationSeconds ?? 15) * 1000;
    const expired = this.observedAt + durationMs < Date.now();
    if (holder !== '' && holder !== identity && !expired) return false;
    try {
      await this.client.request('PUT', path, { body: { ...lease, spec: desired(lease.spec) }, timeoutMs: 5_000 });
      return true;
    } catch (e) {
      if (isStatus(e, 409)) return false;
      throw e;
    }
  }

  /** Stops the loop and, when leading, empties the Lease's holder so a standby takes over immediately. */
  async release(): Promise<void> {
    this.abort.abort();
    await this.stopped;
    if (!this.leading) return;
    this.leading = false;
    const path = objectPath(LEASES, this.opts.namespace, this.opts.name);
    try {
      const lease = await this.client.request<Lease>('GET', path, { timeoutMs: 3_000 });
      if (lease.spec.holderIdentity !== this.opts.identity) return;
      const spec = { ...lease.spec, holderIdentity: null, leaseDurationSeconds: 1, renewTime: microTime() };
      await this.client.request('PUT', path, { body: { ...lease, spec }, timeoutMs: 3_000 });
      this.opts.log?.info({ lease: this.opts.name }, 'released the Lease');
    } catch (err) {
      this.opts.log?.warn({ err: String(err) }, 'could not release the Lease');
    }
  }
}
