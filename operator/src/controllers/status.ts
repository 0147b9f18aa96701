/**
 * The status each custom resource should have after a translation: conditions Accepted / ResolvedRefs / Ready
 * from translate()'s problems and the zod verdict, plus replica, endpoint and proxy counts. Pure; the caller
 * writes it (only when it differs from the current status).
 *
 * Ready means servable: the resource is in the snapshot, replicas are ready (for a pool: in its preferred tier,
 * the lowest priority its backendRefs name) and at least one proxy serves it as it is now. Ready=True with reason
 * PartiallyReady when something is missing that does not stop it being served (replicas or endpoints not ready,
 * references unresolved, proxies not yet serving it).
 */
import type { Condition, CustomResourceKind, Problem, ProxyConfig } from '../../../shared/src/index.js';
import { type ConditionInput, setConditions } from './conditions.js';
import type { InvalidResource } from './inputs.js';
import { type ServingCounts, servingKey } from './serving.js';

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
  status?: { conditions?: Condition[] } & Record<string, unknown>;
}

const ORDER = ['Accepted', 'ResolvedRefs', 'Ready'];
const describe = (ps: Problem[]) => ps.map((p) => `${p.field}: ${p.message}`).join('; ');

function baseConditions(kind: CustomResourceKind, ns: string, name: string, s: TranslationState): ConditionInput[] {
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

function backendCounts(id: string, s: TranslationState): { ready: number; total: number } | undefined {
  const b = s.config.backends.find((x) => x.id === id);
  if (!b) return undefined;
  return s.replicas.get(id) ?? { ready: b.endpoints.length, total: b.endpoints.length };
}

/** The complete desired status of one resource. */
export function desiredStatus(
  kind: CustomResourceKind,
  obj: StatusSubject,
  s: TranslationState,
  now: Date,
): Record<string, unknown> {
  const ns = obj.metadata.namespace ?? 'default';
  const name = obj.metadata.name;
  const id = `${ns}/${name}`;
  const generation = obj.metadata.generation;
  const conditions = baseConditions(kind, ns, name, s);
  const accepted = conditions.every((c) => c.status === 'True');
  const extra: Record<string, unknown> = {};

  const notServedByProxies = (serving: number): ConditionInput => ({
    type: 'Ready',
    status: 'False',
    reason: 'NotServedByProxies',
    message:
      s.proxies.total === 0
        ? 'No proxy is known (the proxy Service has no endpoints).'
        : `None of the ${s.proxies.total} proxies serves the current configuration yet (${serving}/${s.proxies.total}).`,
  });
  const partial = (what: string[]) => what.filter((w) => w !== '').join('; ');

  if (kind === 'LLMBackend') {
    const counts = backendCounts(id, s);
    const ready = counts?.ready ?? 0;
    const total = s.replicas.get(id)?.total ?? counts?.total ?? 0;
    const serving = s.proxies.serving.get(servingKey('LLMBackend', id)) ?? 0;
    const gaps = partial([
      ready < total ? `${ready} of ${total} replicas are ready` : '',
      serving < s.proxies.total ? `${serving} of ${s.proxies.total} proxies serve it` : '',
    ]);
    conditions.push(
      !counts
        ? {
            type: 'Ready',
            status: 'False',
            reason: 'NotServed',
            message: 'The backend is not in the snapshot; see the other conditions.',
          }
        : ready === 0
          ? { type: 'Ready', status: 'False', reason: 'NoReadyReplicas', message: `0 of ${total} replicas are ready.` }
          : serving === 0
            ? notServedByProxies(serving)
            : gaps
              ? { type: 'Ready', status: 'True', reason: 'PartiallyReady', message: `${gaps}.` }
              : { type: 'Ready', status: 'True', reason: 'Ready', message: `${ready} of ${total} replicas are ready.` },
    );
    Object.assign(extra, { readyReplicas: ready, totalReplicas: total, replicas: `${ready}/${total}` });
  } else if (kind === 'LLMPool') {
    const pool = s.config.pools.find((p) => p.id === id);
    const priorities = (obj.spec?.backendRefs ?? []).map((r) => r.priority ?? 0);
    const preferred = priorities.length > 0 ? Math.min(...priorities) : 0;
    let ready = 0;
    let total = 0;
    let preferredReady = 0;
    let preferredTotal = 0;
    for (const t of pool?.targets ?? []) {
      const c = backendCounts(t.backend, s);
      ready += c?.ready ?? 0;
      total += c?.total ?? 0;
      if (t.priority === preferred) {
        preferredReady += c?.ready ?? 0;
        preferredTotal += c?.total ?? 0;
      }
    }
    const serving = s.proxies.serving.get(servingKey('LLMPool', id)) ?? 0;
    const gaps = partial([
      accepted ? '' : 'some references are unresolved (see ResolvedRefs)',
      ready < total ? `${ready} of ${total} endpoints are ready` : '',
      serving < s.proxies.total ? `${serving} of ${s.proxies.total} proxies serve it` : '',
    ]);
    conditions.push(
      !pool
        ? {
            type: 'Ready',
            status: 'False',
            reason: 'NotServed',
            message: 'The pool is not in the snapshot; see Accepted.',
          }
        : ready === 0
          ? {
              type: 'Ready',
              status: 'False',
              reason: 'NoReadyEndpoints',
              message: `0 of ${total} endpoints are ready.`,
            }
          : preferredReady === 0
            ? {
                type: 'Ready',
                status: 'False',
                reason: 'PreferredTierUnavailable',
                message: `0 of ${preferredTotal} endpoints of the preferred tier (priority ${preferred}) are ready; requests fail over to ${ready} endpoints of later tiers.`,
              }
            : serving === 0
              ? notServedByProxies(serving)
              : gaps
                ? { type: 'Ready', status: 'True', reason: 'PartiallyReady', message: `${gaps}.` }
                : {
                    type: 'Ready',
                    status: 'True',
                    reason: 'Ready',
                    message: `${ready} of ${total} endpoints are ready; every proxy serves it.`,
                  },
    );
    Object.assign(extra, {
      readyEndpoints: ready,
      totalEndpoints: total,
      endpoints: `${ready}/${total}`,
      proxiesInSync: `${serving}/${s.proxies.total}`,
    });
  }

  return {
    conditions: setConditions(obj.status?.conditions, conditions, generation, now, ORDER),
    ...extra,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
}
