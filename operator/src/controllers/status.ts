/**
 * What every kind's status is made of, after a translation: conditions Accepted and ResolvedRefs from translate()'s
 * problems and the zod verdict, the Ready condition's common cases, and the bookkeeping (lastTransitionTime kept
 * while a condition does not change, observedGeneration). The kinds' own rules are in backend-status.ts,
 * pool-status.ts and policy-status.ts. Pure; the status reconciler writes the result.
 *
 * Ready means servable: the resource is in the snapshot, replicas are ready and at least one proxy serves it as it
 * is now. Ready=True with reason PartiallyReady when something is missing that does not stop it being served.
 */
import type { Condition, CustomResourceKind, Problem, ProxyConfig } from '../../../shared/src/index.js';
import { type ConditionInput, setConditions } from './conditions.js';
import type { InvalidResource } from './inputs.js';
import type { ServingCounts } from './serving.js';

/** What the last translation (and the pusher) found. */
export interface TranslationState {
  config: ProxyConfig;
  problems: Problem[];
  invalid: InvalidResource[];
  replicas: Map<string, { ready: number; total: number }>;
  /** Proxies known, and per resource how many serve it as it is now. */
  proxies: ServingCounts;
}

/** The object fields status depends on. */
export interface StatusSubject {
  metadata: { name: string; namespace?: string; generation?: number };
  spec?: { backendRefs?: { priority?: number }[] };
  status?: { conditions?: Condition[] };
}

/** The status fields every kind has. */
export interface CommonStatus {
  conditions: Condition[];
  observedGeneration?: number;
}

const ORDER = ['Accepted', 'ResolvedRefs', 'Ready'];
const describe = (ps: Problem[]) => ps.map((p) => `${p.field}: ${p.message}`).join('; ');

/** `namespace/name` of a subject (namespace `default` when unset, as the apiserver does). */
export const idOf = (obj: StatusSubject): string => `${obj.metadata.namespace ?? 'default'}/${obj.metadata.name}`;

/** Accepted and ResolvedRefs of one resource. */
export function acceptance(kind: CustomResourceKind, obj: StatusSubject, s: TranslationState): ConditionInput[] {
  const ns = obj.metadata.namespace ?? 'default';
  const name = obj.metadata.name;
  const invalid = s.invalid.find((i) => i.kind === kind && i.namespace === ns && i.name === name);
  if (invalid)
    return [
      { type: 'Accepted', status: 'False', reason: 'Invalid', message: invalid.message },
      { type: 'ResolvedRefs', status: 'Unknown', reason: 'NotAccepted', message: 'The resource is not accepted.' },
    ];
  const mine = s.problems.filter((p) => p.kind === kind && p.namespace === ns && p.name === name);
  const notAccepted = mine.filter((p) => p.condition === 'Accepted');
  const unresolved = mine.filter((p) => p.condition === 'ResolvedRefs');
  return [
    notAccepted.length > 0
      ? { type: 'Accepted', status: 'False', reason: notAccepted[0]!.reason, message: describe(notAccepted) }
      : { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'The resource is valid.' },
    unresolved.length > 0
      ? { type: 'ResolvedRefs', status: 'False', reason: unresolved[0]!.reason, message: describe(unresolved) }
      : { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: 'All references are resolved.' },
  ];
}

/** Ready=False because no proxy serves the resource as it is now (or no proxy is known). */
export function notServedByProxies(s: TranslationState, serving: number): ConditionInput {
  return {
    type: 'Ready',
    status: 'False',
    reason: 'NotServedByProxies',
    message:
      s.proxies.total === 0
        ? 'No proxy is known (the proxy Service has no endpoints).'
        : `None of the ${s.proxies.total} proxies serves the current configuration yet (${serving}/${s.proxies.total}).`,
  };
}

/** The gaps of a partially ready resource as one sentence part ('' when there are none). */
export const gaps = (what: string[]): string => what.filter((w) => w !== '').join('; ');

/** Ready/total replicas of a backend of the snapshot; undefined when the snapshot does not hold it. */
export function backendCounts(id: string, s: TranslationState): { ready: number; total: number } | undefined {
  const b = s.config.backends.find((x) => x.id === id);
  if (!b) return undefined;
  return s.replicas.get(id) ?? { ready: b.endpoints.length, total: b.endpoints.length };
}

/** The conditions and observedGeneration of the desired status, from the object's current conditions. */
export function common(obj: StatusSubject, conditions: ConditionInput[], now: Date): CommonStatus {
  const generation = obj.metadata.generation;
  return {
    conditions: setConditions(obj.status?.conditions, conditions, generation, now, ORDER),
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
}
