/**
 * Active health checking: one timer loop per endpoint whose backend enables it, started and stopped as
 * snapshots swap (`sync`). The first check runs at once, later ones every `intervalMs` (±10% jitter), each
 * bounded by `timeoutMs`. An ejected endpoint is checked as soon as its ejection time ends, so it can return. An
 * endpoint that live traffic found loading its model is checked at once, and every endpoint that is loading every
 * LOADING_RECHECK_MS at most, so a replica rejoins within about a second of having loaded. Checks use their own
 * connection pool, so they never queue behind traffic.
 */
import type { Logger } from 'pino';
import { Agent, request } from 'undici';
import { type Clock, systemClock, type Timer } from '../../../shared/src/clock.js';
import type { EndpointState, Health } from '../endpoints/state.js';
import { classifyProbe, type ProbeResult, probeFor } from './probe.js';
import { applyCheckResult, forgetChecks } from './transitions.js';

/** Longest time between checks of an endpoint that is loading its model. */
export const LOADING_RECHECK_MS = 1000;

export interface HealthCheckerOptions {
  log: Logger;
  /** Time and timers of the checks (default: the system clock). */
  clock?: Clock;
  /** Source of the ±10% jitter of each interval, in [0, 1) (default Math.random). */
  random?: () => number;
  /** Told about every change of an endpoint's health. */
  onHealthChange?(endpoint: EndpointState, from: Health, to: Health): void;
}

interface Watch {
  timer: Timer | undefined;
  /** When the next check runs (ms since epoch). */
  nextAt: number;
  running: boolean;
  controller: AbortController | undefined;
  unsubscribe: () => void;
}

export class HealthChecker {
  private readonly watches = new Map<EndpointState, Watch>();
  private readonly agent = new Agent({ connections: 4, keepAliveTimeout: 30_000, pipelining: 1 });

  private readonly clock: Clock;
  private readonly random: () => number;

  constructor(private readonly opts: HealthCheckerOptions) {
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? Math.random;
  }

  /** Watches `wanted` (the snapshot's `checked` endpoints); stops watching the others. */
  sync(wanted: ReadonlySet<EndpointState>): void {
    for (const e of this.watches.keys()) if (!wanted.has(e)) this.unwatch(e);
    for (const e of wanted) if (!this.watches.has(e)) this.watch(e);
  }

  /** Stops every check. */
  async stop(): Promise<void> {
    for (const e of [...this.watches.keys()]) this.unwatch(e);
    await this.agent.close().catch(() => undefined);
  }

  private watch(e: EndpointState): void {
    e.activelyChecked = true;
    const w: Watch = { timer: undefined, nextAt: 0, running: false, controller: undefined, unsubscribe: () => {} };
    // An ejection just started: check right when it ends instead of at the next interval. Traffic found the
    // endpoint loading while its health still says otherwise: check now.
    w.unsubscribe = e.subscribe(() => {
      if (e.awaitingHealthCheck && !w.running && w.nextAt > e.ejectedUntil)
        this.schedule(e, w, e.ejectedUntil - this.clock.now());
      else if (e.loading && e.health !== 'unhealthy' && !w.running && w.nextAt > this.clock.now())
        this.schedule(e, w, 0);
    });
    this.watches.set(e, w);
    this.schedule(e, w, 0);
  }

  private unwatch(e: EndpointState): void {
    const w = this.watches.get(e);
    if (!w) return;
    this.watches.delete(e);
    w.timer?.cancel();
    w.controller?.abort();
    w.unsubscribe();
    forgetChecks(e);
  }

  private schedule(e: EndpointState, w: Watch, delayMs: number): void {
    w.timer?.cancel();
    const delay = Math.max(0, delayMs);
    w.nextAt = this.clock.now() + delay;
    w.timer = this.clock.after(delay, () => void this.run(e, w), { unref: true });
  }

  private async run(e: EndpointState, w: Watch): Promise<void> {
    w.running = true;
    const result = await this.check(e, w);
    w.running = false;
    if (this.watches.get(e) !== w) return;
    const now = this.clock.now();
    const from = applyCheckResult(e, result, now);
    if (from !== undefined) {
      const reason = result.ok ? undefined : result.reason;
      this.opts.log.info(
        { endpoint: e.id, backend: e.backend.id, from, to: e.health, reason },
        'endpoint health changed',
      );
      this.opts.onHealthChange?.(e, from, e.health);
    }
    const every = e.loading
      ? Math.min(e.backend.healthCheck.intervalMs, LOADING_RECHECK_MS)
      : e.backend.healthCheck.intervalMs;
    const interval = every * (0.9 + this.random() * 0.2);
    const ejectionEnds = e.awaitingHealthCheck && e.ejectedUntil > now ? e.ejectedUntil - now : interval;
    this.schedule(e, w, Math.max(Math.min(interval, ejectionEnds), 10));
  }

  private async check(e: EndpointState, w: Watch): Promise<ProbeResult> {
    const probe = probeFor(e);
    const controller = new AbortController();
    w.controller = controller;
    const timeoutMs = e.backend.healthCheck.timeoutMs;
    const timer = timeoutMs > 0 ? this.clock.after(timeoutMs, () => controller.abort()) : undefined;
    try {
      const res = await request(e.origin + probe.path, {
        method: 'GET',
        headers: probe.headers,
        signal: controller.signal,
        dispatcher: this.agent,
      });
      await res.body.dump();
      return classifyProbe(e, res.statusCode);
    } catch (err) {
      const reason = controller.signal.aborted
        ? `no answer within ${timeoutMs} ms`
        : `health check failed (${(err as { code?: string }).code ?? 'error'})`;
      return { ok: false, loading: false, reason };
    } finally {
      timer?.cancel();
      w.controller = undefined;
    }
  }
}
