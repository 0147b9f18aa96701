/**
 * The Switchyard controller: one snapshot reconciler for the whole cluster and one status reconciler per kind
 * (LLMBackend, LLMPool, RoutePolicy), fed by one work queue. Level-triggered: any change in the caches queues the
 * key `snapshot`, whose reconcile rebuilds the translation from the caches, hands the snapshot to the pusher and
 * queues `status/<Kind>/<ns>/<name>` for every custom resource; a status key recomputes that resource's desired
 * status from the latest translation and writes it only when it differs. Keys are the only input; a throw requeues
 * with backoff.
 *
 * Why the snapshot is one reconcile and not one per kind: the snapshot is global. What a proxy serves for one pool
 * depends on other kinds and other objects — the backends it targets, the policies that route to it, the Secrets
 * and Services they name, the older pool that owns a model name, the number of proxies sharing fleet-wide limits —
 * and every proxy gets the whole snapshot, so one change of any kind may change what every proxy serves. Per-kind
 * snapshot reconcilers would each have to read every kind anyway, and would race to push different versions (or
 * push partial ones). Statuses, on the other hand, are per resource: each kind has its own rules
 * (backend-status.ts, pool-status.ts, policy-status.ts) and its own reconciler, keyed by object, reading the one
 * translation they share.
 */
import type { Logger } from 'pino';
import {
  type Clock,
  type CustomResourceKind,
  type Secret,
  systemClock,
  type Timer,
} from '../../../shared/src/index.js';
import type { KubeClient } from '../k8s/client.js';
import type { EventRecorder } from '../k8s/events.js';
import type { CustomObject, KubeObject } from '../k8s/objects.js';
import type { OperatorMetrics } from '../metrics.js';
import type { Pusher } from '../push/pusher.js';
import type { WorkQueue } from '../runtime/workqueue.js';
import type { CacheView } from './inputs.js';
import type { SecretRef } from './secrets.js';
import { SnapshotReconciler } from './snapshot.js';
import type { TranslationState } from './status.js';
import { STATUS_RULES, StatusReconciler } from './status-reconciler.js';

/** The key that rebuilds the snapshot. */
export const SNAPSHOT_KEY = 'snapshot';

const KINDS = Object.keys(STATUS_RULES) as CustomResourceKind[];

/** Dependencies of the controller. */
export interface ControllerDeps {
  client: KubeClient;
  cache: CacheView & { get(kind: CustomResourceKind, key: string): CustomObject | undefined };
  queue: WorkQueue;
  pusher: Pusher;
  /** Reads the referenced Secrets (by name; see secrets.ts). */
  secrets: { secrets(refs: ReadonlySet<SecretRef>): Promise<Secret[]> };
  events?: EventRecorder;
  metrics?: OperatorMetrics;
  /** Clock of the status refresh coalescing and condition times (default: the system clock). */
  clock?: Clock;
  log?: Logger;
}

export class SwitchyardController {
  private readonly snapshot: SnapshotReconciler;
  private readonly statuses: Record<CustomResourceKind, StatusReconciler>;
  private proxiesTimer: Timer | undefined;

  constructor(private readonly deps: ControllerDeps) {
    this.snapshot = new SnapshotReconciler(deps);
    const statusOf = (kind: CustomResourceKind) =>
      new StatusReconciler(kind, {
        ...deps,
        get: (key) => deps.cache.get(kind, key),
        translation: () => this.snapshot.current(),
      });
    this.statuses = {
      LLMBackend: statusOf('LLMBackend'),
      LLMPool: statusOf('LLMPool'),
      RoutePolicy: statusOf('RoutePolicy'),
    };
  }

  /** The latest translation with what the proxies serve (for tests and /readyz). */
  get current(): TranslationState | undefined {
    return this.snapshot.current();
  }

  /**
   * Queues status keys of every pool and backend (what the proxies serve changed). Coalesced to one refresh per
   * `delayMs`, so a push to many proxies does not rewrite every status once per acknowledging proxy.
   */
  proxiesChanged(delayMs = 500): void {
    if (!this.snapshot.current() || this.proxiesTimer) return;
    this.proxiesTimer = (this.deps.clock ?? systemClock).after(
      delayMs,
      () => {
        this.proxiesTimer = undefined;
        for (const p of this.deps.cache.pools()) this.deps.queue.add(statusKey('LLMPool', p));
        for (const b of this.deps.cache.backends()) this.deps.queue.add(statusKey('LLMBackend', b));
      },
      { unref: true },
    );
  }

  /** See SnapshotReconciler.referencesService. */
  referencesService(key: string): boolean {
    return this.snapshot.referencesService(key);
  }

  /** Handles one work-queue key. */
  async reconcile(key: string): Promise<void> {
    const controller = controllerOf(key);
    try {
      if (key === SNAPSHOT_KEY) {
        await this.snapshot.reconcile();
        for (const kind of KINDS) for (const o of this.objects(kind)) this.deps.queue.add(statusKey(kind, o));
      } else {
        const [, kind, ns, name] = key.split('/') as [string, CustomResourceKind, string, string];
        await this.statuses[kind]?.reconcile(ns, name);
      }
      this.deps.metrics?.reconciles.inc({ controller, result: 'ok' });
    } catch (err) {
      this.deps.metrics?.reconciles.inc({ controller, result: 'error' });
      throw err;
    }
  }

  private objects(kind: CustomResourceKind): CustomObject[] {
    const c = this.deps.cache;
    return kind === 'LLMBackend' ? c.backends() : kind === 'LLMPool' ? c.pools() : c.policies();
  }
}

/**
 * The controller a work-queue key belongs to, as the `controller` label of the metrics: `snapshot` (translate and
 * push) or the lowercased kind whose status the key writes (`llmbackend`, `llmpool`, `routepolicy`).
 */
export function controllerOf(key: string): string {
  if (key === SNAPSHOT_KEY) return 'snapshot';
  const kind = key.split('/')[1] ?? '';
  return kind in STATUS_RULES ? kind.toLowerCase() : 'unknown';
}

/** Work-queue key of one resource's status. */
export function statusKey(kind: CustomResourceKind, o: KubeObject): string {
  return `status/${kind}/${o.metadata.namespace ?? 'default'}/${o.metadata.name}`;
}
