/**
 * Least privilege for Secrets: the operator reads only the Secrets that resources reference, one GET each by name
 * (RBAC `get` on secrets; never `list` or `watch`, which would hand it every Secret of the cluster, values
 * included). Values are cached; every `refreshMs` each referenced Secret is read again (from the apiserver's
 * watch cache, so a refresh costs no etcd read) and a change (a rotated key, a Secret created after the resource
 * that names it) calls `onChange`, so rotation reaches the proxies within one refresh period. A Secret that is missing, forbidden or unreadable is absent: the resource naming it gets
 * ResolvedRefs=False (SecretNotFound) and nothing else is affected.
 */
import type { Logger } from 'pino';
import { type Clock, type Secret as SecretValues, systemClock, type Timer } from '../../../shared/src/index.js';
import { ApiError, type KubeClient } from '../k8s/client.js';
import type { Secret } from '../k8s/objects.js';
import { objectPath, SECRETS } from '../k8s/resources.js';

/** `namespace/name` of a referenced Secret. */
export type SecretRef = string;

interface Entry {
  /** undefined: absent (not found, forbidden or unreadable). */
  secret: SecretValues | undefined;
  resourceVersion: string;
}

/** Options of the reader. */
export interface SecretReaderOptions {
  /** Period of re-reading every referenced Secret; 0 disables it. */
  refreshMs: number;
  /** A referenced Secret changed (appeared, disappeared, new data). */
  onChange: () => void;
  /** Clock of the refresh period (default: the system clock). */
  clock?: Clock;
  log?: Logger;
}

export class SecretReader {
  private readonly cache = new Map<SecretRef, Entry>();
  private readonly timer: Timer | undefined;
  private refreshing = false;
  /** Number of GETs sent (for tests). */
  reads = 0;

  constructor(
    private readonly client: KubeClient,
    private readonly opts: SecretReaderOptions,
  ) {
    if (opts.refreshMs > 0) {
      this.timer = (opts.clock ?? systemClock).every(opts.refreshMs, () => void this.refresh(), { unref: true });
    }
  }

  /** The referenced Secrets that exist; reads those not cached yet and forgets those no longer referenced. */
  async secrets(refs: ReadonlySet<SecretRef>): Promise<SecretValues[]> {
    for (const ref of this.cache.keys()) if (!refs.has(ref)) this.cache.delete(ref);
    const missing = [...refs].filter((r) => !this.cache.has(r));
    const read = await Promise.all(missing.map((r) => this.read(r)));
    for (const [i, r] of missing.entries()) this.cache.set(r, read[i] as Entry);
    return [...refs].flatMap((r) => this.cache.get(r)?.secret ?? []);
  }

  /** Reads every cached Secret again; calls onChange when any differs. */
  async refresh(): Promise<void> {
    if (this.refreshing) return;
    this.refreshing = true;
    try {
      let changed = false;
      for (const [ref, before] of [...this.cache]) {
        const after = await this.read(ref, before, true);
        if (!this.cache.has(ref)) continue; // no longer referenced meanwhile
        this.cache.set(ref, after);
        if (after.resourceVersion !== before.resourceVersion) changed = true;
      }
      if (changed) this.opts.onChange();
    } finally {
      this.refreshing = false;
    }
  }

  stop(): void {
    this.timer?.cancel();
  }

  /** One GET; a refresh may be answered from the apiserver's watch cache (resourceVersion=0), not from etcd. */
  private async read(ref: SecretRef, previous?: Entry, fromCache = false): Promise<Entry> {
    const [namespace, name] = ref.split('/') as [string, string];
    this.reads++;
    try {
      const s = await this.client.request<Secret>(
        'GET',
        `${objectPath(SECRETS, namespace, name)}${fromCache ? '?resourceVersion=0' : ''}`,
      );
      return {
        secret: { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, data: s.data ?? {} },
        resourceVersion: s.metadata.resourceVersion ?? '',
      };
    } catch (err) {
      const status = err instanceof ApiError ? err.status : 0;
      if (status === 404) return { secret: undefined, resourceVersion: 'absent' };
      // forbidden or unreadable: keep what was read before (a blip must not drop credentials from proxies)
      this.opts.log?.warn({ secret: ref, status, err: String(err) }, 'could not read a referenced Secret');
      return previous ?? { secret: undefined, resourceVersion: `error-${status}` };
    }
  }
}
