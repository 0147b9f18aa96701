/**
 * Live state of one upstream replica: in-flight requests, latency, health and ejection. One object per
 * (backend, URL), carried over when a new snapshot still contains the replica, so a config push never resets
 * in-flight counts or health.
 *
 * Writers: the pipeline (acquire/release, passive outlier detection, Retry-After), the active health checker.
 * Every writer calls `notify()` after a change (acquire/release do it themselves) so schedulers that index
 * endpoints (scheduling/) can update in O(log n) instead of rescanning.
 */
import type { BackendConfig, EndpointConfig } from '../../../shared/src/proxyconfig/index.js';
import type { LoadReadings } from './load.js';

/**
 * Health as seen by active checks: unknown until the first check completes. Unknown endpoints take traffic only when
 * their tier has no checked one to offer (pipeline/select.ts), so a replica that is still loading is not tried first.
 */
export type Health = 'unknown' | 'healthy' | 'unhealthy';

/** Called after a change of an endpoint's state (in-flight, health, ejection, limits). Must not throw. */
export type EndpointListener = (endpoint: EndpointState) => void;

export class EndpointState {
  /** Identifier safe to show clients and metrics (backend name and replica), never an address. */
  id: string;
  url: string;
  backend: BackendConfig;
  weight: number;
  private inflightCount = 0;
  private finishedCount = 0;
  health: Health = 'unknown';
  /** Active-check streak counters. */
  checkSuccesses = 0;
  checkFailures = 0;
  /** Time (ms since epoch) and outcome of the last completed active check; 0 / undefined before the first one. */
  lastCheckAt = 0;
  lastCheckError: string | undefined;
  /** True while an active health checker watches this endpoint (set and cleared by health/). */
  activelyChecked = false;
  /** Passive outlier detection: failures in a row, ejected until (ms since epoch), ejections so far. */
  consecutiveFailures = 0;
  ejectedUntil = 0;
  ejections = 0;
  /** After an ejection of an actively checked endpoint: stays out until a health check succeeds after `ejectedUntil`. */
  awaitingHealthCheck = false;
  /** Retry-After from the upstream: no new requests before this time (ms since epoch). */
  limitedUntil = 0;
  /**
   * The upstream said it is loading its model (llama.cpp's 503 "Loading model", on traffic or to a health check), and
   * has not answered normally since. While `loadingUntil` is ahead no request goes there; an actively checked
   * endpoint also stays out until a check passes (the checker looks at once, then every second while it loads).
   */
  loading = false;
  loadingUntil = 0;
  /**
   * Requests this proxy may have in flight to the replica: its share of the backend's `maxConcurrency` (a number for
   * the whole fleet, see FleetView), set when a snapshot is compiled; the whole cap until then, Infinity when the
   * backend sets none.
   */
  cap: number;
  /** The backend's `maxConcurrency` for the whole fleet (Infinity when it sets none). */
  fleetCap: number;
  /**
   * Exact mode (`maxConcurrencyMode: Exact`): while `active()`, every attempt leases a fleet-wide slot in Redis and
   * this proxy may use the whole cap; otherwise its share applies. Undefined in Split mode or without Redis.
   */
  exact: { active(): boolean } | undefined;
  /** Exact mode: Redis said every fleet-wide slot is taken; not asked again before this time (ms since epoch). */
  fleetFullUntil = 0;
  /** Peak-EWMA latency in ms (0 until measured) and when it was last updated. */
  ewmaMs = 0;
  ewmaAt = 0;
  /** The last scraped load of the replica (load.ts; empty while it is not scraped). */
  readings: LoadReadings = {};
  /** Origin (scheme://host:port) and base path of `url`, split once. */
  readonly origin: string;
  readonly basePath: string;
  private readonly listeners = new Set<EndpointListener>();

  constructor(
    readonly key: string,
    backend: BackendConfig,
    ep: EndpointConfig,
  ) {
    this.id = ep.id;
    this.url = ep.url;
    this.backend = backend;
    this.weight = ep.weight;
    this.cap = backend.maxConcurrency ?? Number.POSITIVE_INFINITY;
    this.fleetCap = this.cap;
    this.exact = undefined;
    const u = new URL(ep.url);
    this.origin = u.origin;
    this.basePath = u.pathname.replace(/\/$/, '');
  }

  /** Key of a replica across snapshots. */
  static keyOf(backend: BackendConfig, ep: EndpointConfig): string {
    return `${backend.id}|${ep.url}`;
  }

  /** Requests of this proxy in flight to the endpoint. Changed only through acquire()/release(). */
  get inflight(): number {
    return this.inflightCount;
  }

  /** Requests of this proxy to the endpoint that ended, since the endpoint state was created. */
  get finished(): number {
    return this.finishedCount;
  }

  /**
   * Most requests in flight this proxy may send: its share of the fleet-wide cap, or the whole cap while exact
   * leasing is active (Redis then keeps the fleet within it); Infinity without a cap.
   */
  get maxConcurrency(): number {
    return this.exact?.active() ? this.fleetCap : this.cap;
  }

  /** Exact mode: every fleet-wide slot is taken; keep away until `until` (ms since epoch, whole milliseconds). */
  markFleetFull(until: number): void {
    this.fleetFullUntil = Math.ceil(until);
    this.notify();
  }

  /** An attempt starts: one more request in flight. Pair with exactly one release(). */
  acquire(): void {
    this.inflightCount++;
    this.notify();
  }

  /** An attempt ended. */
  release(): void {
    if (this.inflightCount > 0) this.inflightCount--;
    this.finishedCount++;
    this.notify();
  }

  /**
   * Whether the endpoint may get a new request at `now` (ms since epoch): not unhealthy ('unknown' counts as
   * usable), not ejected (ejection time passed and, for actively checked endpoints, a health check succeeded
   * since), not rate limited by a Retry-After, not loading its model, and below its max concurrency. O(1); the
   * source of truth that every scheduler checks before returning an endpoint.
   */
  available(now: number): boolean {
    return (
      this.health !== 'unhealthy' &&
      !this.awaitingHealthCheck &&
      this.ejectedUntil <= now &&
      this.limitedUntil <= now &&
      this.loadingUntil <= now &&
      this.fleetFullUntil <= now &&
      !(this.loading && this.activelyChecked) &&
      this.inflightCount < this.maxConcurrency
    );
  }

  /**
   * Whether the only reason the endpoint is unavailable at `now` is its max concurrency, so a release can let a
   * waiter in (never when this proxy's share is 0: nothing of its own will free up).
   */
  fullOnly(now: number): boolean {
    return (
      this.cap > 0 &&
      this.inflightCount >= this.maxConcurrency &&
      this.fleetFullUntil <= now &&
      this.health !== 'unhealthy' &&
      !this.awaitingHealthCheck &&
      this.ejectedUntil <= now &&
      this.limitedUntil <= now &&
      this.loadingUntil <= now &&
      !(this.loading && this.activelyChecked)
    );
  }

  /** A request found the upstream loading its model at `now`: no traffic for `retryMs` (or until a check passes). */
  markLoading(now: number, retryMs: number): void {
    this.loading = true;
    this.loadingUntil = now + retryMs;
    this.notify();
  }

  /** The upstream answered normally: it is no longer loading. */
  markLoaded(): void {
    if (!this.loading && this.loadingUntil === 0) return;
    this.loading = false;
    this.loadingUntil = 0;
    this.notify();
  }

  /** Watches changes; returns the unsubscribe function. */
  subscribe(listener: EndpointListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tells watchers the state changed. Call after writing health, ejection or limit fields. */
  notify(): void {
    for (const l of this.listeners) l(this);
  }
}
