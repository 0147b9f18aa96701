/**
 * An informer: keeps a local cache of one resource type in sync through list + watch. Lists (paged), then
 * watches from the list's resourceVersion with bookmarks; when the watch ends it re-watches from the last seen
 * resourceVersion; on 410 Gone (or an ERROR event with code 410) it relists; other errors back off exponentially.
 * Handlers see every change of the cache, including the deletions a relist discovers.
 */
import type { Logger } from 'pino';
import { type Clock, sleep, systemClock } from '../../../shared/src/index.js';
import { ApiError, type KubeClient, type WatchEvent } from '../k8s/client.js';
import { type KubeObject, keyOf, type List } from '../k8s/objects.js';
import { collectionPath, type ResourceType } from '../k8s/resources.js';
import { Backoff } from './backoff.js';

/** A change of the cache: the new object, or the last known one for a deletion. */
export type InformerHandler<T extends KubeObject> = (type: 'add' | 'update' | 'delete', obj: T) => void;

/** Options of an informer. */
export interface InformerOptions {
  /** Namespace to watch; all namespaces when undefined. */
  namespace?: string | undefined;
  labelSelector?: string;
  /** Page size of lists. */
  pageSize?: number;
  /** `timeoutSeconds` of each watch (default: random in 240–360 s, so informers do not re-watch in lock-step). */
  watchTimeoutSeconds?: number;
  /** Clock of the retry backoff (default: the system clock). */
  clock?: Clock;
  log?: Logger;
}

export class Informer<T extends KubeObject> {
  private readonly store = new Map<string, T>();
  private readonly handlers: InformerHandler<T>[] = [];
  private readonly abort = new AbortController();
  private resourceVersion = '';
  private syncedResolve!: () => void;
  /** Resolves once the first list has been applied to the cache. */
  readonly synced = new Promise<void>((r) => {
    this.syncedResolve = r;
  });
  /** Number of (re)lists done, for tests and metrics. */
  lists = 0;

  constructor(
    private readonly client: KubeClient,
    readonly type: ResourceType,
    private readonly opts: InformerOptions = {},
  ) {}

  /** Registers a change handler (call before start()). */
  on(handler: InformerHandler<T>): this {
    this.handlers.push(handler);
    return this;
  }

  /** Object by `namespace/name`. */
  get(key: string): T | undefined {
    return this.store.get(key);
  }

  /** Every cached object. */
  list(): T[] {
    return [...this.store.values()];
  }

  /** Starts the list/watch loop in the background. */
  start(): void {
    void this.loop();
  }

  stop(): void {
    this.abort.abort();
  }

  private emit(type: 'add' | 'update' | 'delete', obj: T): void {
    for (const h of this.handlers) h(type, obj);
  }

  private async loop(): Promise<void> {
    const backoff = new Backoff({ baseMs: 200, maxMs: 30_000, jitter: 0.2 });
    const signal = this.abort.signal;
    while (!signal.aborted) {
      try {
        if (!this.resourceVersion) await this.relist();
        await this.watchOnce();
        backoff.reset();
      } catch (err) {
        if (signal.aborted) return;
        const gone = err instanceof ApiError && err.status === 410;
        if (gone) {
          this.resourceVersion = '';
          this.opts.log?.info({ resource: this.type.plural }, 'watch expired (410 Gone); relisting');
          continue;
        }
        const delay = backoff.next();
        this.opts.log?.warn({ resource: this.type.plural, err: String(err), delayMs: delay }, 'list/watch failed');
        await sleep(this.opts.clock ?? systemClock, delay, signal);
      }
    }
  }

  private async relist(): Promise<void> {
    const seen = new Map<string, T>();
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await this.client.request<List<T>>('GET', collectionPath(this.type, this.opts.namespace), {
        query: { limit: this.opts.pageSize ?? 500, continue: cont, labelSelector: this.opts.labelSelector },
        signal: this.abort.signal,
      });
      for (const item of page.items) seen.set(keyOf(item), this.withKind(item));
      cont = page.metadata.continue || undefined;
      rv = page.metadata.resourceVersion ?? '';
    } while (cont);
    for (const [key, old] of this.store) {
      if (!seen.has(key)) {
        this.store.delete(key);
        this.emit('delete', old);
      }
    }
    for (const [key, obj] of seen) {
      const old = this.store.get(key);
      this.store.set(key, obj);
      if (!old) this.emit('add', obj);
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.emit('update', obj);
    }
    this.resourceVersion = rv;
    this.lists++;
    this.syncedResolve();
  }

  private withKind(obj: T): T {
    // List items carry no apiVersion/kind; add them so objects look the same from list and watch.
    const apiVersion = this.type.group ? `${this.type.group}/${this.type.version}` : this.type.version;
    return { ...obj, apiVersion: obj.apiVersion ?? apiVersion, kind: obj.kind ?? this.type.kind };
  }

  private async watchOnce(): Promise<void> {
    const query = {
      resourceVersion: this.resourceVersion,
      allowWatchBookmarks: true,
      labelSelector: this.opts.labelSelector,
      timeoutSeconds: this.opts.watchTimeoutSeconds ?? 240 + Math.floor(Math.random() * 120),
    };
    await this.client.watch<T>(
      collectionPath(this.type, this.opts.namespace),
      query,
      (e) => this.apply(e),
      this.abort.signal,
    );
  }

  private apply(e: WatchEvent<T>): void {
    if (e.type === 'ERROR') {
      const status = e.object;
      throw new ApiError(status.code ?? 500, status.reason ?? 'WatchError', status.message ?? 'watch error');
    }
    const rv = e.object.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
    if (e.type === 'BOOKMARK') return;
    const obj = this.withKind(e.object);
    const key = keyOf(obj);
    if (e.type === 'DELETED') {
      const old = this.store.get(key);
      this.store.delete(key);
      this.emit('delete', old ?? obj);
      return;
    }
    const existed = this.store.has(key);
    this.store.set(key, obj);
    this.emit(existed ? 'update' : 'add', obj);
  }
}
