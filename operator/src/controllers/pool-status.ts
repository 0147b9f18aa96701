/**
 * The status of an LLMPool: endpoints ready/total across its backends, proxies serving it, and Ready — NotServed
 * (left out of the snapshot), NoReadyEndpoints, PreferredTierUnavailable (no ready endpoint in the lowest priority
 * its backendRefs name, though failover serves it), NotServedByProxies, PartiallyReady or Ready.
 */
import type { LLMPoolStatus } from '../../../shared/src/index.js';
import type { ConditionInput } from './conditions.js';
import { servingKey } from './serving.js';
import {
  acceptance,
  backendCounts,
  type CommonStatus,
  common,
  gaps,
  idOf,
  notServedByProxies,
  type StatusSubject,
  type TranslationState,
} from './status.js';

/** The status an LLMPool should have. */
export type PoolStatus = LLMPoolStatus & CommonStatus;

/** The complete desired status of one LLMPool. */
export function desiredPoolStatus(obj: StatusSubject, s: TranslationState, now: Date): PoolStatus {
  const id = idOf(obj);
  const base = acceptance('LLMPool', obj, s);
  const accepted = base.every((c) => c.status === 'True');
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
  const missing = gaps([
    accepted ? '' : 'some references are unresolved (see ResolvedRefs)',
    ready < total ? `${ready} of ${total} endpoints are ready` : '',
    serving < s.proxies.total ? `${serving} of ${s.proxies.total} proxies serve it` : '',
  ]);
  const readiness: ConditionInput = !pool
    ? { type: 'Ready', status: 'False', reason: 'NotServed', message: 'The pool is not in the snapshot; see Accepted.' }
    : ready === 0
      ? { type: 'Ready', status: 'False', reason: 'NoReadyEndpoints', message: `0 of ${total} endpoints are ready.` }
      : preferredReady === 0
        ? {
            type: 'Ready',
            status: 'False',
            reason: 'PreferredTierUnavailable',
            message: `0 of ${preferredTotal} endpoints of the preferred tier (priority ${preferred}) are ready; requests fail over to ${ready} endpoints of later tiers.`,
          }
        : serving === 0
          ? notServedByProxies(s, serving)
          : missing
            ? { type: 'Ready', status: 'True', reason: 'PartiallyReady', message: `${missing}.` }
            : {
                type: 'Ready',
                status: 'True',
                reason: 'Ready',
                message: `${ready} of ${total} endpoints are ready; every proxy serves it.`,
              };
  const { conditions, ...rest } = common(obj, [...base, readiness], now);
  return {
    conditions,
    readyEndpoints: ready,
    totalEndpoints: total,
    endpoints: `${ready}/${total}`,
    proxiesInSync: `${serving}/${s.proxies.total}`,
    ...rest,
  };
}
