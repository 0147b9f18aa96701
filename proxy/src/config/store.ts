/**
 * Holds the snapshot being served. Swaps are atomic: a request reads `current` once and keeps that runtime to
 * its end, so in-flight requests finish on the snapshot they started with.
 */

import { formatZodIssues } from '../../../shared/src/manifests/parse.js';
import { type ProxyConfig, proxyConfig, snapshotVersion } from '../../../shared/src/proxyconfig/index.js';
import { type CompileOptions, compileRuntime, type Runtime } from './runtime.js';

/** A snapshot that failed validation; `problems` lists `field: message` lines. */
export class InvalidSnapshotError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid snapshot: ${problems.slice(0, 10).join('; ')}`);
    this.name = 'InvalidSnapshotError';
  }
}

export type SnapshotListener = (runtime: Runtime, previous: Runtime | undefined) => void;

export class SnapshotStore {
  private runtime: Runtime | undefined;
  /** How snapshots are compiled here: who may call pools no RoutePolicy covers, the standalone fleet. */
  constructor(readonly options: CompileOptions = {}) {}

  private listeners: SnapshotListener[] = [];
  /** Time of the last successful apply (ms since epoch). */
  appliedAt = 0;

  /** The runtime being served, or undefined before the first snapshot. */
  get current(): Runtime | undefined {
    return this.runtime;
  }

  /** Validates and swaps to `input`; throws InvalidSnapshotError and keeps the old one when invalid. */
  apply(input: unknown): ProxyConfig {
    const parsed = proxyConfig.safeParse(input);
    if (!parsed.success) throw new InvalidSnapshotError(formatZodIssues(parsed.error));
    const config = parsed.data;
    // The version is the content hash: a snapshot edited (or truncated and re-completed) after it was generated, or
    // one whose version was made up, would otherwise be served under a version it does not have.
    const expected = snapshotVersion(config);
    if (config.version !== expected)
      throw new InvalidSnapshotError([`version: ${config.version} is not the content hash of the snapshot`]);
    if (this.runtime?.config.version === config.version) return this.runtime.config;
    const previous = this.runtime;
    const next = compileRuntime(config, previous, this.options);
    this.runtime = next;
    this.appliedAt = Date.now();
    for (const l of this.listeners) l(next, previous);
    return config;
  }

  /** Calls `listener` after every swap (and now, if a snapshot is loaded). Returns an unsubscribe function. */
  subscribe(listener: SnapshotListener): () => void {
    this.listeners.push(listener);
    if (this.runtime) listener(this.runtime, undefined);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }
}
