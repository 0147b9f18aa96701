/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection: a candidate takes the Lease
 * when it has no holder or its holder has not renewed it for leaseDuration (measured on the local clock since the
 * record last changed, so clock skew between replicas does not matter); the leader renews every retryPeriod and
 * steps down when it could not renew for renewDeadline; release() empties the holder so a standby takes over at
 * once. Writes use the resourceVersion, so two candidates cannot both win.
 *
 * The renew deadline is enforced by the clock, not by the apiserver's answers: it is counted from the start of the
 * last successful attempt (before the renewTime it wrote was committed, so before any standby could see it), every
 * request's timeout is capped at the time left until it, an attempt still running at the deadline is abandoned,
 * and the leader steps down at the deadline. So a leader cut off from the apiserver stops at the latest
 * renewDeadline after its last renewal, while a standby waits leaseDuration after it observed that renewal: the
 * difference (leaseDuration − renewDeadline, 5 s by default) is the safety margin against two leaders.
 */
import type { Logger } from 'pino';
import { type Clock, sleep, systemClock } from '../../../shared/src/index.js';
import { isStatus, type KubeClient } from '../k8s/client.js';
import type { Lease } from '../k8s/objects.js';
import { collectionPath, LEASES, objectPath } from '../k8s/resources.js';

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
  /** Clock of deadlines, periods and the times written into the Lease (default: the system clock). */
  clock?: Clock;
  log?: Logger;
}

type LeaseSpec = NonNullable<Lease['spec']>;

const microTime = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z');

/** Upper bound of one Lease request (capped further by the time left until the renew deadline). */
const REQUEST_TIMEOUT_MS = 5_000;

export class LeaderElector {
  private leading = false;
  private observed = '';
  private observedAt = 0;
  private readonly abort = new AbortController();
  private stopped: Promise<void> | undefined;
  private readonly clock: Clock;

  constructor(
    private readonly client: KubeClient,
    private readonly opts: LeaderElectionOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
    const { leaseDurationMs = 15_000, renewDeadlineMs = 10_000, retryPeriodMs = 2_000 } = opts;
    if (!(renewDeadlineMs > 0 && retryPeriodMs > 0 && leaseDurationMs > renewDeadlineMs)) {
      throw new Error(
        `leader election needs leaseDuration > renewDeadline > 0 and retryPeriod > 0 (got ${leaseDurationMs} ms, ${renewDeadlineMs} ms, ${retryPeriodMs} ms)`,
      );
    }
  }

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
    /** Start of the last successful attempt: the Lease was renewed no earlier than this. */
    let renewedAt = 0;
    while (!this.abort.signal.aborted) {
      const started = this.clock.now();
      if (this.leading && started >= renewedAt + renewDeadline) this.stepDown();
      // A leader's attempt must end by its renew deadline; a candidate's gets as long (a late win is then counted
      // from its start, like a renewal).
      const ok = await this.attempt((this.leading ? renewedAt : started) + renewDeadline);
      if (this.abort.signal.aborted) break;
      if (ok) {
        renewedAt = started;
        if (!this.leading) {
          this.leading = true;
          this.opts.log?.info({ identity: this.opts.identity, lease: this.opts.name }, 'became leader');
          this.opts.onStartedLeading();
        }
      } else if (this.leading && this.clock.now() >= renewedAt + renewDeadline) {
        this.stepDown();
      }
      // A leader that failed to renew wakes up at its deadline at the latest, to step down on time.
      const wait =
        this.leading && !ok ? Math.min(retry, Math.max(0, renewedAt + renewDeadline - this.clock.now())) : retry;
      await sleep(this.clock, wait, this.abort.signal);
    }
  }

  private stepDown(): void {
    this.leading = false;
    this.opts.log?.warn({ identity: this.opts.identity }, 'lost leadership (could not renew the Lease)');
    this.opts.onStoppedLeading();
  }

  /**
   * One attempt bounded by `deadline` (epoch ms): false when it failed, or was still running at the deadline or
   * at release() (it is then aborted and its outcome ignored, even if the client does not honour the abort).
   */
  private async attempt(deadline: number): Promise<boolean> {
    const ctl = new AbortController();
    const cancel = () => ctl.abort();
    this.abort.signal.addEventListener('abort', cancel, { once: true });
    const timer = this.clock.after(deadline - this.clock.now(), cancel);
    const cancelled = new Promise<false>((resolve) => {
      if (ctl.signal.aborted) resolve(false);
      else ctl.signal.addEventListener('abort', () => resolve(false), { once: true });
    });
    const run = this.tryAcquireOrRenew(deadline, ctl.signal).catch((err: unknown) => {
      if (!ctl.signal.aborted) this.opts.log?.warn({ err: String(err), lease: this.opts.name }, 'lease update failed');
      return false;
    });
    try {
      const ok = await Promise.race([run, cancelled]);
      if (ctl.signal.aborted && !this.abort.signal.aborted) {
        this.opts.log?.warn({ lease: this.opts.name }, 'lease update did not finish before the renew deadline');
      }
      return ok && !ctl.signal.aborted;
    } finally {
      timer.cancel();
      this.abort.signal.removeEventListener('abort', cancel);
    }
  }

  /** One attempt; true when we hold the Lease afterwards. Each request ends by `deadline` at the latest. */
  private async tryAcquireOrRenew(deadline: number, signal: AbortSignal): Promise<boolean> {
    const { namespace, name, identity } = this.opts;
    const path = objectPath(LEASES, namespace, name);
    const request = <T>(method: string, p: string, body?: unknown): Promise<T> => {
      const left = deadline - this.clock.now();
      if (left <= 0 || signal.aborted) return Promise.reject(new Error('renew deadline reached'));
      return this.client.request<T>(method, p, { body, signal, timeoutMs: Math.min(REQUEST_TIMEOUT_MS, left) });
    };
    const now = this.clock.now();
    const desired = (prev?: LeaseSpec): LeaseSpec => ({
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      acquireTime: prev?.holderIdentity === identity && prev.acquireTime ? prev.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: (prev?.leaseTransitions ?? 0) + (prev && prev.holderIdentity !== identity ? 1 : 0),
    });
    let lease: Lease;
    try {
      lease = await request<Lease>('GET', path);
    } catch (err) {
      if (!isStatus(err, 404)) throw err;
      const body: Lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace },
        spec: desired(),
      };
      try {
        await request('POST', collectionPath(LEASES, namespace), body);
        return true;
      } catch (e) {
        if (isStatus(e, 409)) return false;
        throw e;
      }
    }
    const spec = lease.spec ?? {};
    const record = `${spec.holderIdentity ?? ''}|${spec.renewTime ?? ''}`;
    if (record !== this.observed) {
      this.observed = record;
      this.observedAt = this.clock.now();
    }
    const holder = spec.holderIdentity ?? '';
    const durationMs = (spec.leaseDurationSeconds ?? 15) * 1000;
    const expired = this.observedAt + durationMs < this.clock.now();
    if (holder !== '' && holder !== identity && !expired) return false;
    try {
      await request('PUT', path, { ...lease, spec: desired(spec) });
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
      if (lease.spec?.holderIdentity !== this.opts.identity) return;
      // an empty holder, as client-go releases it: the next candidate takes the Lease at once
      const spec: LeaseSpec = {
        ...lease.spec,
        holderIdentity: '',
        leaseDurationSeconds: 1,
        renewTime: microTime(this.clock.now()),
      };
      await this.client.request('PUT', path, { body: { ...lease, spec }, timeoutMs: 3_000 });
      this.opts.log?.info({ lease: this.opts.name }, 'released the Lease');
    } catch (err) {
      this.opts.log?.warn({ err: String(err) }, 'could not release the Lease');
    }
  }
}
