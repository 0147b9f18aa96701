/** The status of a RoutePolicy: Accepted and ResolvedRefs (a policy is not served on its own, so no Ready). */
import type { RoutePolicyStatus } from '../../../shared/src/index.js';
import { acceptance, type CommonStatus, common, type StatusSubject, type TranslationState } from './status.js';

/** The status a RoutePolicy should have. */
export type PolicyStatus = RoutePolicyStatus & CommonStatus;

/** The complete desired status of one RoutePolicy. */
export function desiredPolicyStatus(obj: StatusSubject, s: TranslationState, now: Date): PolicyStatus {
  return common(obj, acceptance('RoutePolicy', obj, s), now);
}
