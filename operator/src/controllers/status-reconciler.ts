/**
 * The status reconciler of one kind. For a resource it reads the object from the cache (gone: nothing to do),
 * computes the status its kind's rules give for the latest translation and what the proxies serve, and writes it
 * only when it differs (a 409 re-reads the object and recomputes); each condition that changed becomes an Event.
 */
import type { Logger } from 'pino';
import { type Clock, type CustomResourceKind, stableStringify, systemClock } from '../../../shared/src/index.js';
import type { KubeClient } from '../k8s/client.js';
import type { EventRecorder } from '../k8s/events.js';
import type { CustomObject } from '../k8s/objects.js';
import { LLM_BACKENDS, LLM_POOLS, type ResourceType, ROUTE_POLICIES } from '../k8s/resources.js';
import { writeStatus } from '../k8s/status.js';
import type { OperatorMetrics } from '../metrics.js';
import { desiredBackendStatus } from './backend-status.js';
import { transitions } from './conditions.js';
import { desiredPolicyStatus } from './policy-status.js';
import { desiredPoolStatus } from './pool-status.js';
import type { CommonStatus, StatusSubject, TranslationState } from './status.js';

/** How one kind's status is computed and where it is written. */
export interface StatusRules {
  type: ResourceType;
  desired(obj: StatusSubject, s: TranslationState, now: Date): CommonStatus;
}

/** The rules of every kind. */
export const STATUS_RULES: Record<CustomResourceKind, StatusRules> = {
  LLMBackend: { type: LLM_BACKENDS, desired: desiredBackendStatus },
  LLMPool: { type: LLM_POOLS, desired: desiredPoolStatus },
  RoutePolicy: { type: ROUTE_POLICIES, desired: desiredPolicyStatus },
};

/** Dependencies of a status reconciler. */
export interface StatusDeps {
  client: KubeClient;
  /** The cached object by `namespace/name`. */
  get(key: string): CustomObject | undefined;
  /** The latest translation with what the proxies serve; undefined before the first. */
  translation(): TranslationState | undefined;
  events?: EventRecorder;
  metrics?: OperatorMetrics;
  clock?: Clock;
  log?: Logger;
}

type Subject = CustomObject & StatusSubject;

export class StatusReconciler {
  constructor(
    readonly kind: CustomResourceKind,
    private readonly deps: StatusDeps,
    private readonly rules: StatusRules = STATUS_RULES[kind],
  ) {}

  /** Brings the status of `namespace/name` up to date. */
  async reconcile(namespace: string, name: string): Promise<void> {
    const cached = this.deps.get(`${namespace}/${name}`) as Subject | undefined;
    const state = this.deps.translation();
    if (!cached || !state) return; // deleted meanwhile, or nothing translated yet: nothing to do
    const now = new Date((this.deps.clock ?? systemClock).now());
    let before: CommonStatus['conditions'] | undefined;
    let after: CommonStatus | undefined;
    const result = await writeStatus<Subject>(this.deps.client, this.rules.type, cached, (current) => {
      const desired = this.rules.desired(current, state, now);
      before = current.status?.conditions;
      after = desired;
      return stableStringify(desired) === stableStringify(current.status ?? {}) ? undefined : desired;
    });
    if (result !== 'written' || !after) return;
    this.deps.metrics?.statusWrites.inc({ kind: this.kind });
    for (const c of transitions(before, after.conditions)) {
      void this.deps.events?.record(
        cached,
        c.status === 'True' ? 'Normal' : 'Warning',
        c.reason,
        `${c.type}=${c.status}: ${c.message}`,
      );
    }
  }
}
