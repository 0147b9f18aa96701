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
 */
import type { Logger } from 'pino';
import { type Clock, type ProxyConfig, systemClock, type Timer } from '../../../shared/src/index.js';
import { type BackoffOptions, backoffDelay } from '../runtime/backoff.js';
import { getServed, PushError, putConfig } from './client.js';
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
}

/** What is known about one proxy. */
export interface ProxyState {
  target: ProxyTarget;
  /** Version the proxy last said it serves (undefined: nothing, or unknown since a call failed). */
  acked?: string | undefined;
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

export class Pusher {
  private readonly states = new Map<string, ProxyState>();
  private snapshot: { version: string; body: Buffer } | undefined;
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
    const every = opts.resyncIntervalMs ?? 10_000;
    if (every > 0) this.resyncTimer = this.clock.every(every, () => this.resync(), { unref: true });
  }

  /** Version of the snapshot being delivered. */
  get version(): string | undefined {
    return this.snapshot?.version;
  }

  /** Sets the snapshot to deliver; proxies not at its version get it. */
  setSnapshot(config: ProxyConfig): void {
    if (this.snapshot?.version === config.version) return;
    this.snapshot = { version: config.version, body: Buffer.from(JSON.stringify(config)) };
    for (const s of this.states.values()) {
      s.failures = 0;
      this.kick(s, true);
    }
    this.notify();
  }

  /**
   * Replaces the set of proxies: new ones get the snapshot, vanished ones are forgotten. A proxy is identified by
   * pod name and URL, so a new pod reusing an old pod's IP is treated as new (asked what it serves first).
   */
  setTargets(targets: ProxyTarget[]): void {
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
      const s: ProxyState = { target: t, failures: 0, probed: false, running: false };
      this.states.set(targetKey(t), s);
      this.kick(s);
    }
    this.notify();
  }

  /** Proxies serving the current snapshot, and all known proxies. */
  sync(): { inSync: number; total: number; proxies: ProxyState[] } {
    const proxies = [...this.states.values()];
    const inSync = proxies.filter((p) => this.snapshot && p.acked === this.snapshot.version).length;
    return { inSync, total: proxies.length, proxies };
  }

  /**
   * Asks every proxy again what it serves (drift and restart detection), in sync or not; a proxy waiting out a
   * backoff is tried now, so none waits longer than one resync period.
   */
  resync(): void {
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
    for (const s of this.states.values()) s.timer?.cancel();
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
        const { version, body } = this.snapshot;
        if (!s.probed) {
          this.probes++;
          s.acked = undefined;
          const now = await getServed(s.target.url, this.opts.token(), timeoutMs);
          s.acked = now.version;
          this.noteInstance(s, now.instance);
          s.probed = true;
          continue;
        }
        if (s.acked === version) break;
        const started = performance.now();
        try {
          this.puts++;
          s.acked = undefined;
          const now = await putConfig(s.target.url, this.opts.token(), body, timeoutMs);
          s.acked = now.version;
          this.noteInstance(s, now.instance);
          s.failures = 0;
          s.lastError = undefined;
          this.observePush(s, 'ok', started);
          this.opts.log?.debug({ proxy: s.target.name, version: s.acked }, 'snapshot acknowledged');
          if (s.acked !== version) {
            // The proxy answered with another version: do not loop on it; the periodic resync re-checks.
            s.lastError = `proxy serves ${s.acked} after a push of ${version}`;
            break;
          }
        } catch (err) {
          const rejected = err instanceof PushError && err.status >= 400 && err.status < 500;
          this.observePush(s, rejected ? 'rejected' : 'error', started);
          throw err;
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
