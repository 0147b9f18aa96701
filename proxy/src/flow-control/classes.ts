/** Priority classes of requests and where a request stands in a saturated pool's queue (docs/priority.md). */
import { PRIORITY_CLASSES, type PriorityClass } from '../../../shared/src/api/v1alpha1/index.js';
import type { FlowRecord } from '../call/record.js';

export { PRIORITY_CLASSES, type PriorityClass };

/** Rank of each class: lower is served first. */
export const RANK: Readonly<Record<PriorityClass, number>> = { critical: 0, standard: 1, sheddable: 2 };

/** The class named by a header value (case and surrounding blanks ignored), or undefined. */
export function parseClass(value: string | undefined): PriorityClass | undefined {
  if (value === undefined || value.length > 32) return undefined;
  const v = value.trim().toLowerCase();
  return (PRIORITY_CLASSES as readonly string[]).includes(v) ? (v as PriorityClass) : undefined;
}

/**
 * How a call waits when its pool is full: its class, the flow it is queued in (one per tenant: `policy/tenant`, ''
 * for callers without one) and the flow's weight. Flows come from the configuration, never from a client.
 */
export interface Priority {
  readonly cls: PriorityClass;
  readonly flow: string;
  readonly weight: number;
  /** The tenant name for metrics and logs (undefined: the caller has none). */
  readonly tenant: string | undefined;
  /** What decided the class. */
  readonly source: FlowRecord['source'];
}

/** The priority of a call nothing classifies: standard, in the flow of callers without a tenant. */
export const DEFAULT_PRIORITY: Priority = {
  cls: 'standard',
  flow: '',
  weight: 1,
  tenant: undefined,
  source: 'default',
};
