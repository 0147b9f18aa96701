/**
 * Live state of one upstream replica: in-flight requests, latency, health and ejection. One object per
 * (backend, URL), carried over when a new snapshot still contains the replica, so a config push never resets
 * in-flight counts or health.
 */
import type { BackendConfig, EndpointConfig } from '../../../shared/src/proxyconfig/index.js';

/** Health as seen by active checks: unknown until the first check completes. */
export type Health = 'unknown' | 'healthy' | 'unhealthy';

export class EndpointState {
  /** Identifier safe to show clients and metrics (backend name and replica), never an address. */
  id: string;
  url: string;
  backend: BackendConfig;
  weight: number;
  inflight = 0;
  health: Health = 'unknown';
  /** Active-check streak counters. */
  checkSuccesses = 0;
  checkFailures = 0;
  /** Passive outlier detection. */
  consecutiveFailures = 0;
  ejectedUntil = 0;
  ejections = 0;
  /** Retry-After from the upstream: no new requests before this time (ms since epoch). */
  limitedUntil = 0;
  /** Peak-EWMA latency in ms (0 until measured) and when it was last updated. */
  ewmaMs = 0;
  ewmaAt = 0;
  /** Origin (scheme://host:port) and base path of `url`, split once. */
  readonly origin: string;
  readonly basePath: string;

  constructor(
    readonly key: string,
    backend: BackendConfig,
    ep: EndpointConfig,
  ) {
    this.id = ep.id;
    this.url = ep.url;
    this.backend = backend;
    this.weight = ep.weight;
    const u = new URL(ep.url);
    this.origin = u.origin;
    this.basePath = u.pathname.replace(/\/$/, '');
  }

  /** Key of a replica across snapshots. */
  static keyOf(backend: BackendConfig, ep: EndpointConfig): string {
    return `${backend.id}|${ep.url}`;
  }

  /** Most requests in flight allowed, or Infinity. */
  get maxConcurrency(): number {
    return this.backend.maxConcurrency ?? Number.POSITIVE_INFINITY;
  }

  /** Whether the endpoint may get a new request now (health, ejection, Retry-After, concurrency). */
  available(now: number): boolean {
    return (
      this.health !== 'unhealthy' &&
      this.ejectedUntil <= now &&
      this.limitedUntil <= now &&
      this.inflight < this.maxConcurrency
    );
  }
}
