/**
 * Which proxies serve a resource as it is now. A proxy reports the snapshot version it serves; that version
 * differs from the current one after any change anywhere, so counting only proxies at the current version would
 * flap every pool's status on every unrelated change. Instead each snapshot's resources are fingerprinted (a pool
 * together with the backends it targets; a backend alone) and a proxy counts for a resource when the snapshot it
 * serves holds that resource exactly as the current one does. Pure bookkeeping; no Kubernetes access.
 */
import { createHash } from 'node:crypto';
import { type ProxyConfig, stableStringify } from '../../../shared/src/index.js';

/** Key of a resource in the fingerprints: `LLMPool ns/name` or `LLMBackend ns/name`. */
export const servingKey = (kind: 'LLMPool' | 'LLMBackend', id: string) => `${kind} ${id}`;

const hash = (v: unknown) => createHash('sha256').update(stableStringify(v)).digest('hex').slice(0, 32);

/** Fingerprint of every pool (with its targeted backends) and backend of a snapshot. */
export function fingerprints(config: ProxyConfig): Map<string, string> {
  const out = new Map<string, string>();
  const backends = new Map(config.backends.map((b) => [b.id, b]));
  for (const b of config.backends) out.set(servingKey('LLMBackend', b.id), hash(b));
  for (const p of config.pools) {
    const used = [...new Set(p.targets.map((t) => t.backend))].sort().map((id) => backends.get(id));
    out.set(servingKey('LLMPool', p.id), hash({ pool: p, backends: used }));
  }
  return out;
}

/** Per-resource proxy counts: how many proxies serve each resource of the current snapshot as it is. */
export interface ServingCounts {
  total: number;
  serving: Map<string, number>;
}

/** Remembers the fingerprints of the last `keep` snapshots and counts which proxies serve what. */
export class ServingTracker {
  private readonly byVersion = new Map<string, Map<string, string>>();
  private memo: { key: string; counts: ServingCounts } | undefined;

  constructor(private readonly keep = 16) {}

  /** Records a snapshot (the newest). */
  record(config: ProxyConfig): void {
    if (this.byVersion.has(config.version)) this.byVersion.delete(config.version);
    this.byVersion.set(config.version, fingerprints(config));
    while (this.byVersion.size > this.keep) this.byVersion.delete(this.byVersion.keys().next().value as string);
  }

  /**
   * Counts, per resource of snapshot `current`, the proxies (given by the version each serves, undefined for
   * nothing or unknown) whose snapshot holds that resource unchanged. A version too old to be remembered counts
   * as not serving it.
   */
  count(current: string, served: readonly (string | undefined)[]): ServingCounts {
    const key = `${current}|${served.join(',')}`;
    if (this.memo?.key === key) return this.memo.counts;
    const now = this.byVersion.get(current) ?? new Map<string, string>();
    const serving = new Map<string, number>();
    for (const v of served) {
      const theirs = v === undefined ? undefined : this.byVersion.get(v);
      if (!theirs) continue;
      for (const [k, fp] of now) if (theirs.get(k) === fp) serving.set(k, (serving.get(k) ?? 0) + 1);
    }
    const counts = { total: served.length, serving };
    this.memo = { key, counts };
    return counts;
  }
}
