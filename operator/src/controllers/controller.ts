/**
 * The Switchyard controller. Level-triggered: any change in the caches queues the key `snapshot`, whose
 * reconcile rebuilds the whole translation input from the caches, translates it, hands the snapshot to the
 * pusher and queues one `status/<Kind>/<ns>/<name>` key per custom resource; a status key recomputes that
 * resource's desired status from the latest translation and writes it only when it differs. Keys are the only
 * input; a throw requeues with backoff.
 */
import type { Logger } from 'pino';
import {
  type Clock,
  type Condition,
  type CustomResourceKind,
  formatProblem,
  type Secret,
  stableStringify,
  systemClock,
  type Timer,
  translate,
} from '../../../shared/src/index.js';
import type { KubeClient } from '../k8s/client.js';
import type { EventRecorder } from '../k8s/events.js';
import type { CustomObject, KubeObject } from '../k8s/objects.js';
import { LLM_BACKENDS, LLM_POOLS, type ResourceType, ROUTE_POLICIES } from '../k8s/resources.js';
import { writeStatus } from '../k8s/status.js';
import type { OperatorMetrics } from '../metrics.js';
import type { Pusher } from '../push/pusher.js';
import type { WorkQueue } from '../runtime/workqueue.js';
import { transitions } from './conditions.js';
import { buildInput, type CacheView } from './inputs.js';
import type { SecretRef } from './secrets.js';
import { ServingTracker } from './serving.js';
import { desiredStatus, type StatusSubject, type TranslationState } from './status.js';

/** The key that rebuilds the snapshot. */
export const SNAPSHOT_KEY = 'snapshot';

const TYPES: Record<CustomResourceKind, ResourceType> = {
  LLMBackend: LLM_BACKENDS,
  LLMPool: LLM_POOLS,
  RoutePolicy: ROUTE_POLICIES,
};

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

type Subject = KubeObject & StatusSubject;

export class SwitchyardController {
  private state: TranslationState | undefined;
  private readonly serving = new ServingTracker();
  private serviceRefs: Set<string> | undefined;
  private proxiesTimer: Timer | undefined;

  constructor(private readonly deps: ControllerDeps) {}

  /** The latest translation (for tests and /readyz). */
  get current(): TranslationState | undefined {
    return this.state;
  }

  /**
   * Queues status keys of every pool and backend (what the proxies serve changed). Coalesced to one refresh per
   * `delayMs`, so a push to many proxies does not rewrite every status once per acknowledging proxy.
   */
  proxiesChanged(delayMs = 500): void {
    if (!this.state || this.proxiesTimer) return;
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

  /**
   * Whether a change of Service (or EndpointSlice of Service) `namespace/name` can change the snapshot: only when a
   * backend references it (or before the first translation). Other Services and slices never cost a translation.
   */
  referencesService(key: string): boolean {
    return this.serviceRefs === undefined || this.serviceRefs.has(key);
  }

  /** Handles one work-queue key. */
  async reconcile(key: string): Promise<void> {
    const controller = controllerOf(key);
    try {
      if (key === SNAPSHOT_KEY) await this.rebuild();
      else await this.reconcileStatus(key);
      this.deps.metrics?.reconciles.inc({ controller, result: 'ok' });
    } catch (err) {
      this.deps.metrics?.reconciles.inc({ controller, result: 'error' });
      throw err;
    }
  }

  private async rebuild(): Promise<void> {
    const { input, invalid, replicas, secretRefs, serviceRefs } = buildInput(this.deps.cache);
    input.secrets = await this.deps.secrets.secrets(secretRefs);
    const started = performance.now();
    const { config, problems } = translate(input);
    this.serviceRefs = serviceRefs;
    this.deps.metrics?.translateSeconds.observe((performance.now() - started) / 1000);
    const previous = this.state?.config.version;
    this.serving.record(config);
    this.state = { config, problems, invalid, replicas, proxies: { total: 0, serving: new Map() } };
    if (previous !== config.version) {
      this.deps.log?.info(
        {
          version: config.version,
          backends: config.backends.length,
          pools: config.pools.length,
          problems: problems.length,
        },
        'snapshot translated',
      );
      for (const p of problems) this.deps.log?.debug({ problem: formatProblem(p) }, 'translation problem');
    }
    this.deps.pusher.setSnapshot(config);
    for (const kind of Object.keys(TYPES) as CustomResourceKind[]) {
      for (const o of this.objects(kind)) this.deps.queue.add(statusKey(kind, o));
    }
  }

  private objects(kind: CustomResourceKind): CustomObject[] {
    const c = this.deps.cache;
    return kind === 'LLMBackend' ? c.backends() : kind === 'LLMPool' ? c.pools() : c.policies();
  }

  private async reconcileStatus(key: string): Promise<void> {
    const [, kind, ns, name] = key.split('/') as [string, CustomResourceKind, string, string];
    const cached = this.deps.cache.get(kind, `${ns}/${name}`) as Subject | undefined;
    if (!cached || !this.state) return; // deleted meanwhile: nothing to do
    const sync = this.deps.pusher.sync();
    const proxies = this.serving.count(
      this.state.config.version,
      sync.proxies.map((p) => p.acked),
    );
    const state: TranslationState = { ...this.state, proxies };
    let before: Subject['status'];
    let after: Record<string, unknown> | undefined;
    const result = await writeStatus<Subject>(this.deps.client, TYPES[kind], cached, (current) => {
      const desired = desiredStatus(kind, current, state, new Date((this.deps.clock ?? systemClock).now()));
      before = current.status;
      after = desired;
      return stableStringify(desired) === stableStringify(current.status ?? {}) ? undefined : desired;
    });
    if (result !== 'written' || !after) return;
    this.deps.metrics?.statusWrites.inc({ kind });
    const changed = transitions(before?.conditions, (after.conditions ?? []) as Condition[]);
    for (const c of changed) {
      void this.deps.events?.record(
        cached,
        c.status === 'True' ? 'Normal' : 'Warning',
        c.reason,
        `${c.type}=${c.status}: ${c.message}`,
      );
    }
  }
}

/**
 * The controller a work-queue key belongs to, as the `controller` label of the metrics: `snapshot` (translate and
 * push) or the lowercased kind whose status the key writes (`llmbackend`, `llmpool`, `routepolicy`).
 */
export function controllerOf(key: string): string {
  if (key === SNAPSHOT_KEY) return 'snapshot';
  const kind = key.split('/')[1] ?? '';
  return kind in TYPES ? kind.toLowerCase() : 'unknown';
}

/** Work-queue key of one resource's status. */
export function statusKey(kind: CustomResourceKind, o: KubeObject): string {
  return `status/${kind}/${o.metadata.namespace ?? 'default'}/${o.metadata.name}`;
}
