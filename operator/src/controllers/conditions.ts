/**
 * Status conditions (metav1.Condition semantics): setting a condition keeps its lastTransitionTime while its
 * status does not change, so re-writing the same state is a no-op. Pure functions, no Kubernetes access.
 */
import type { Condition } from '../../../shared/src/index.js';

/** A condition without bookkeeping fields. */
export interface ConditionInput {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

/**
 * Returns `existing` with `next` set: lastTransitionTime is kept when the status is unchanged, otherwise `now`.
 * Other condition types are kept; the result is ordered by `order`, then by type.
 */
export function setConditions(
  existing: readonly Condition[] | undefined,
  next: readonly ConditionInput[],
  generation: number | undefined,
  now: Date,
  order: readonly string[] = [],
): Condition[] {
  const byType = new Map((existing ?? []).map((c) => [c.type, c]));
  for (const n of next) {
    const old = byType.get(n.type);
    byType.set(n.type, {
      ...n,
      message: truncate(n.message, 1024),
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
      lastTransitionTime:
        old && old.status === n.status ? old.lastTransitionTime : now.toISOString().replace(/\.\d+Z$/, 'Z'),
    });
  }
  const rank = (t: string) => (order.includes(t) ? order.indexOf(t) : order.length);
  return [...byType.values()].sort((a, b) => rank(a.type) - rank(b.type) || a.type.localeCompare(b.type));
}

/** Conditions whose status changed between two lists: what deserves an event. */
export function transitions(before: readonly Condition[] | undefined, after: readonly Condition[]): Condition[] {
  const old = new Map((before ?? []).map((c) => [c.type, c]));
  return after.filter((c) => {
    const o = old.get(c.type);
    return o === undefined
      ? c.status !== 'True'
      : o.status !== c.status || (c.status === 'False' && o.reason !== c.reason);
  });
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
