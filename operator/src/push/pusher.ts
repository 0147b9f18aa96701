/**
 * Delivers the current snapshot to every proxy and tracks what each serves (like xDS ACK/NACK). Each proxy has its
 * own loop, so a slow or dead pod never delays the others: a push has a deadline, failures retry with a per-pod
 * exponential backoff, a newer snapshot supersedes a pending one. A proxy first seen (new pod, operator restart) is
 * asked what it serves before any PUT, so a restarted operator does not re-push what proxies already serve.
 *
 * Convergence bound: every resync period each proxy is asked again — in sync or not, backing off or not — and is
 * pushed when it serves nothing or another version (a proxy restarted on the same address, whose process
 * `instance` id changed). So a reachable proxy serves the current snapshot at most one resync period plus one
 * probe and one push (each bounded by the push timeout) after it came back or drifted. What the pusher counts as
 * in sync is what the proxies last said they serve: a failed probe or push counts as not in sync.
 *
 * Fleet views: each proxy gets the snapshot with its place among the proxies (FleetPlanner: two-phase rebalances
 * so the shares of fleet-wide numbers never add up to more than the number), so its version is its own. Bodies are
 * built once per snapshot and gzip-compressed (SnapshotBodies: only a proxy's view is per proxy); a proxy that
 * cannot read gzip (an older one, answering 400/415) gets plain JSON. At most `maxConcurrentPushes` PUTs are in
 * flight at once, so a change to a large fleet does not send every body at the same moment.
 */
import type { Logger } from 'pino';
import { type Clock, type FleetView, type ProxyConfig, systemClock, type Timer } from '../../../shared/src/index.js';
import { type BackoffOptions, backoffDelay } from '../runtime/backoff.js';
import { SnapshotBodies } from './bodies.js';
import { getServed, PushError, putConfig, type Served } from './client.js';
import { FleetPlanner } from './fleet-planner.js';
import { Semaphore } from './semaphore.js';
import type { ProxyTarget } from './targets.js';

/** Hooks for metrics. */
export interface PushObserver {
  /**
   * One PUT to proxy pod `proxy` (ProxyTarget.name) finished: `result` ok | rejected (4xx, NACK) | error (network,
   * 5xx). Not called for a PUT that ends after its proxy left the targets.
   */
  pushed?(result: 'ok' | 'rejected' | 'error', seconds: number, proxy: string): void;
  /** No target is named `proxy` any more (its pod left): per-proxy series can be dropped. */
  proxyRemoved?(proxy: string): void;
  /** In-sync / total changed. */
  syncChanged?(inSync: number, total: number): void;
}

/** Options of the pusher. */
export interface PusherOptions {
  /** Bearer token for the admin API (read per push, so a rotated token file is picked up). */
  token: () => string;
  timeoutMs?: number;
  backoff?: BackoffOptions;
  resyncIntervalMs?: number;
  observer?: PushObserver;
  /** Clock of backoffs and the resync period (default: the system clock). */
  clock?: Clock;
  log?: Logger;
  /** Most PUTs in flight at once (default 16). */
  maxConcurrentPushes?: number;
  /** Longest a rebalance of fleet shares waits for a proxy that neither acknowledges nor leaves (default 60 s). */
  rebalanceTimeoutMs?: number;
  /** Compress bodies with gzip (default true). */
  gzip?: boolean;
}

/** What is known about one proxy. */
export interface ProxyState {
  target: ProxyTarget;
  /** Version the proxy last said it serves (undefined: nothing, or unknown since a call failed). */
  acked?: string | undefined;
  /** The translation (content) version behind `acked`, when it is the current one or a plain snapshot's. */
  content?: string | undefined;
  /** The fleet view it last said it applies. */
  fleet?: FleetView | undefined;
  /** Whether it reads gzip bodies (false after it refused one). */
  gzip: boolean;
  /** Its requests in flight fit in its shares, as it last said (a rebalance waits for it). */
  settled?: boolean;
  /** The version it should serve now (its view of the current snapshot); undefined while it waits for one. */
  wanted?: string | undefined;
  /** Process id the proxy last reported; a new one means it restarted. */
  instance?: string | undefined;
  /** Last push error (a NACK message, a network error). */
  lastError?: string;
  failures: number;
  probed: boolean;
  running: boolean;
  timer?: Timer | undefined;
}

const targetKey = (t: ProxyTarget) => `${t.name}@${t.url}`;
/** How often a proxy finishing requests above a smaller share is asked again during a rebalance. */
const SETTLE_POLL_MS = 250;

export class Pusher {
  private readonly states = new Map<string, ProxyState>();
  private snapshot: SnapshotBodies | undefined;
  private readonly planner: FleetPlanner;
  private readonly pushes: Semaphore;
  private rebalanceTimer: Timer | undefined;
  private readonly resyncTimer: Timer | undefined;
  private readonly clock: Clock;
  private stopped = false;
  private lastSync = '';
  /** Number of PUTs sent (for tests: no push storms). */
  puts = 0;
  /** Number of version probes sent. */
  probes = 0;

  constructor(private readonly opts: PusherOptions) {
    this.clock = opts.clock ?? systemClock;
    this.planner = new FleetPlanner({
      now: () => this.clock.now(),
      ...(opts.rebalanceTimeoutMs !== undefined ? { timeoutMs: opts.rebalanceTimeoutMs } : {}),
    });
    this.pushes = new Semaphore(opts.maxConcurrentPushes ?? 16);
    const every = opts.resyncIntervalMs ?? 10_000;
    if (every > 0) this.resyncTimer = this.clock.every(every, () => this.resync(), { unref: true });
  }

  /** Version of the snapshot being delivered. */
  get version(): string | undefined {
    return this.snapshot?.version;
  }

  /** Rebalances of fleet shares committed with a proxy that never acknowledged or left. */
  get overdueRebalances(): number {
    return this.planner.overdue;
  }

  /** Sets the snapshot to deliver; proxies not at its version get it. */
  setSnapshot(config: ProxyConfig): void {
    if (this.snapshot?.version === config.version) return;
    this.snapshot = new SnapshotBodies(config);
    this.planner.setRelevant(hasFleetNumbers(config));
    for (const s of this.states.values()) {
      s.failures = 0;
      this.kick(s, true);
    }
    this.notify();
  }

  /**
   * Replaces the set of proxies: new ones get the snapshot, vanished ones are forgotten. A proxy is identified by
   * pod name and URL, so a new pod reusing an old pod's IP is treated as new (asked what it serves first).
   * `terminating`: pods of the proxy Service that are shutting down (no pushes; they keep their share of
   * fleet-wide numbers until they are gone).
   */
  setTargets(targets: ProxyTarget[], terminating: readonly string[] = []): void {
    const keys = new Set(targets.map(targetKey));
    const names = new Set(targets.map((t) => t.name));
    for (const [key, s] of this.states) {
      if (keys.has(key)) continue;
      s.timer?.cancel();
      this.states.delete(key);
      // the same pod at a new address keeps its name, and so its series
      if (!names.has(s.target.name)) this.opts.observer?.proxyRemoved?.(s.target.name);
    }
    for (const t of targets) {
      if (this.states.has(targetKey(t))) continue;
      const s: ProxyState = { target: t, failures: 0, probed: false, running: false, gzip: this.opts.gzip ?? true };
      this.states.set(targetKey(t), s);
      this.kick(s);
    }
    this.planner.setMembers(
      targets.map((t) => t.name),
      [...targets.map((t) => t.name), ...terminating],
    );
    this.replan();
    // Places changed with the fleet: proxies in sync may need their new view.
    for (const s of this.states.values()) this.kick(s);
    this.notify();
  }

  /** Proxies serving the current snapshot (with the view each should have now), and all known proxies. */
  sync(): { inSync: number; total: number; proxies: ProxyState[] } {
    const proxies = [...this.states.values()];
    const inSync = proxies.filter((p) => p.acked !== undefined && p.acked === this.wantedVersion(p)).length;
    return { inSync, total: proxies.length, proxies };
  }

  /** The version `s` should serve now; undefined while it waits (or before the first snapshot). */
  private wantedVersion(s: ProxyState): string | undefined {
    if (!this.snapshot) return undefined;
    const plan = this.planner.plan(s.target.name);
    return plan === 'wait' ? undefined : this.snapshot.versionFor(plan.view);
  }

  /**
   * Asks every proxy again what it serves (drift and restart detection), in sync or not; a proxy waiting out a
   * backoff is tried now, so none waits longer than one resync period.
   */
  resync(): void {
    this.replan();
    for (const s of this.states.values()) {
      if (s.running) continue;
      s.probed = false;
      this.kick(s, true);
    }
  }

  /** Stops all loops and timers. */
  stop(): void {
    this.stopped = true;
    this.resyncTimer?.cancel();
    this.rebalanceTimer?.cancel();
    for (const s of this.states.values()) s.timer?.cancel();
  }

  /** Lets the planner commit a finished (or overdue) rebalance; every proxy is looked at again when it did. */
  private replan(): void {
    if (this.planner.advance()) {
      if (this.planner.overdue > 0)
        this.opts.log?.warn({ overdue: this.planner.overdue }, 'fleet rebalance committed without every proxy');
      for (const s of this.states.values()) this.kick(s, true);
    }
    this.rebalanceTimer?.cancel();
    this.rebalanceTimer = undefined;
    const deadline = this.planner.deadline;
    if (deadline !== undefined && !this.stopped)
      this.rebalanceTimer = this.clock.after(Math.max(0, deadline - this.clock.now()), () => this.replan(), {
        unref: true,
      });
  }

  /** Probes `s` again soon (not a failure: it is finishing requests above a smaller share). */
  private askAgain(s: ProxyState): void {
    if (this.stopped || s.timer) return;
    s.timer = this.clock.after(SETTLE_POLL_MS, () => {
      s.timer = undefined;
      s.probed = false;
      this.kick(s);
    });
  }

  /** Takes in what a proxy said it serves. */
  private took(s: ProxyState, served: Served): void {
    s.acked = served.version;
    s.fleet = served.fleet;
    this.noteInstance(s, served.instance);
    const bodies = this.snapshot;
    s.content = bodies && served.version === bodies.versionFor(served.fleet) ? bodies.version : served.version;
    this.planner.report(s.target.name, served.version !== undefined, served.fleet, served.settled);
    s.settled = served.settled;
  }

  private notify(): void {
    const { inSync, total } = this.sync();
    const key = `${inSync}/${total}`;
    if (key === this.lastSync) return;
    this.lastSync = key;
    this.opts.observer?.syncChanged?.(inSync, total);
  }

  private observePush(s: ProxyState, result: 'ok' | 'rejected' | 'error', started: number): void {
    // a proxy removed while its PUT was in flight must not get its series back
    if (this.states.get(targetKey(s.target)) !== s) return;
    this.opts.observer?.pushed?.(result, (performance.now() - started) / 1000, s.target.name);
  }

  private kick(s: ProxyState, now = false): void {
    if (this.stopped || !this.snapshot || s.running) return;
    if (s.timer) {
      if (!now) return;
      s.timer.cancel();
      s.timer = undefined;
    }
    void this.run(s);
  }

  private noteInstance(s: ProxyState, instance: string | undefined): void {
    if (instance !== undefined && s.instance !== undefined && instance !== s.instance)
      this.opts.log?.info({ proxy: s.target.name }, 'proxy restarted; re-checking what it serves');
    if (instance !== undefined) s.instance = instance;
  }

  private async run(s: ProxyState): Promise<void> {
    s.running = true;
    const timeoutMs = this.opts.timeoutMs ?? 5_000;
    try {
      while (this.snapshot && !this.stopped && this.states.get(targetKey(s.target)) === s) {
        const bodies = this.snapshot;
        if (!s.probed) {
          this.probes++;
          s.acked = undefined;
          s.content = undefined;
          this.took(s, await getServed(s.target.url, this.opts.token(), timeoutMs));
          s.probed = true;
          this.replan();
          continue;
        }
        const plan = this.planner.plan(s.target.name);
        if (plan === 'wait') break; // a rebalance is under way: this proxy gets its view once it is committed
        const wanted = bodies.versionFor(plan.view);
        if (s.acked === wanted) {
          // Serving its smaller share, but requests sent before still exceed it: ask again shortly.
          if (s.settled === false && this.planner.rebalancing) this.askAgain(s);
          break;
        }
        const body = await bodies.body(plan.view, s.gzip);
        if (this.snapshot !== bodies) continue;
        const started = performance.now();
        const release = await this.pushes.acquire();
        try {
          this.puts++;
          s.acked = undefined;
          s.content = undefined;
          this.took(s, await putConfig(s.target.url, this.opts.token(), body, timeoutMs));
          s.failures = 0;
          s.lastError = undefined;
          this.observePush(s, 'ok', started);
          this.opts.log?.debug({ proxy: s.target.name, version: s.acked }, 'snapshot acknowledged');
          this.replan();
          if (s.acked !== body.version) {
            // The proxy answered with another version: do not loop on it; the periodic resync re-checks.
            s.lastError = `proxy serves ${s.acked} after a push of ${body.version}`;
            break;
          }
        } catch (err) {
          if (body.encoding === 'gzip' && refusesGzip(err)) {
            s.gzip = false; // an older proxy: plain JSON from now on
            continue;
          }
          const rejected = err instanceof PushError && err.status >= 400 && err.status < 500;
          this.observePush(s, rejected ? 'rejected' : 'error', started);
          throw err;
        } finally {
          release();
        }
      }
    } catch (err) {
      s.lastError = err instanceof Error ? err.message : String(err);
      const delay = backoffDelay(s.failures++, { baseMs: 200, maxMs: 30_000, jitter: 0.2, ...this.opts.backoff });
      this.opts.log?.warn({ proxy: s.target.name, err: s.lastError, retryInMs: delay }, 'snapshot push failed');
      if (!this.stopped && this.states.get(targetKey(s.target)) === s) {
        s.timer = this.clock.after(delay, () => {
          s.timer = undefined;
          this.kick(s);
        });
      }
    } finally {
      s.running = false;
      this.notify();
    }
  }
}

/** A proxy that cannot read gzip answers 415, or 400 because the bytes are not JSON to it. */
function refusesGzip(err: unknown): boolean {
  return (
    err instanceof PushError && (err.status === 415 || (err.status === 400 && /not valid JSON/i.test(err.message)))
  );
}

/** Whether a snapshot has numbers meant for the whole fleet that a proxy may apply alone (caps, local limits). */
export function hasFleetNumbers(config: ProxyConfig): boolean {
  const limited = (l: object | undefined) => l !== undefined && Object.values(l).some((v) => v !== undefined);
  return (
    config.backends.some((b) => b.maxConcurrency !== undefined) ||
    config.policies.some(
      (p) =>
        p.rateLimits.some((r) => limited(r.limits)) || p.tenants.some((t) => limited(t.limits) || limited(t.keyLimits)),
    )
  );
}
