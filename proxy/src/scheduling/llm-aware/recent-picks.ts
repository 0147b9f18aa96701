/**
 * Exponentially decayed pick counts per endpoint: each endpoint's share of the recent traffic of one scheduler.
 * Sticky affinity can keep in-flight counts level while one replica collects more sessions than the others over
 * time; bounding this share as well keeps the long-run split even. Decay is applied lazily on read, O(1).
 */
import type { EndpointState } from '../../endpoints/state.js';

export class RecentPicks {
  private readonly counts = new Map<EndpointState, { value: number; at: number }>();

  /** `tauMs`: time constant of the decay (a pick counts e^-1 after it). */
  constructor(private readonly tauMs: number) {}

  /** Decayed pick count of `e` at `now` (ms since epoch). */
  value(e: EndpointState, now: number): number {
    const c = this.counts.get(e);
    return c ? c.value * Math.exp(-Math.max(0, now - c.at) / this.tauMs) : 0;
  }

  /** Counts a pick of `e` at `now`. */
  add(e: EndpointState, now: number): void {
    this.counts.set(e, { value: this.value(e, now) + 1, at: now });
  }
}
