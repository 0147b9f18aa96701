/**
 * The status of an LLMBackend: replicas ready/total and Ready — NotServed (left out of the snapshot),
 * NoReadyReplicas, NotServedByProxies, PartiallyReady (some replicas not ready, some proxies not serving it yet)
 * or Ready.
 */
import type { LLMBackendStatus } from '../../../shared/src/index.js';
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

/** The status an LLMBackend should have. */
export type BackendStatus = LLMBackendStatus & CommonStatus;

/** The complete desired status of one LLMBackend. */
export function desiredBackendStatus(obj: StatusSubject, s: TranslationState, now: Date): BackendStatus {
  const id = idOf(obj);
  const counts = backendCounts(id, s);
  const ready = counts?.ready ?? 0;
  const total = s.replicas.get(id)?.total ?? counts?.total ?? 0;
  const serving = s.proxies.serving.get(servingKey('LLMBackend', id)) ?? 0;
  const missing = gaps([
    ready < total ? `${ready} of ${total} replicas are ready` : '',
    serving < s.proxies.total ? `${serving} of ${s.proxies.total} proxies serve it` : '',
  ]);
  const readiness: ConditionInput = !counts
    ? {
        type: 'Ready',
        status: 'False',
        reason: 'NotServed',
        message: 'The backend is not in the snapshot; see the other conditions.',
      }
    : ready === 0
      ? { type: 'Ready', status: 'False', reason: 'NoReadyReplicas', message: `0 of ${total} replicas are ready.` }
      : serving === 0
        ? notServedByProxies(s, serving)
        : missing
          ? { type: 'Ready', status: 'True', reason: 'PartiallyReady', message: `${missing}.` }
          : { type: 'Ready', status: 'True', reason: 'Ready', message: `${ready} of ${total} replicas are ready.` };
  const { conditions, ...rest } = common(obj, [...acceptance('LLMBackend', obj, s), readiness], now);
  return { conditions, readyReplicas: ready, totalReplicas: total, replicas: `${ready}/${total}`, ...rest };
}
