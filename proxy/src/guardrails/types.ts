/** What a guardrail is to the request path: texts in, a verdict out (allow, mask with replacement texts, deny). */
import type { GUARDRAIL_PHASES } from '../../../shared/src/api/v1alpha1/index.js';

export { GUARDRAIL_PHASES } from '../../../shared/src/api/v1alpha1/index.js';

export const GUARDRAIL_ACTIONS = ['allow', 'mask', 'deny'] as const;
export type GuardrailAction = (typeof GUARDRAIL_ACTIONS)[number];

export type GuardrailPhase = (typeof GUARDRAIL_PHASES)[number];

/** What one check sees: the texts of the request's messages (or of the answer), never the rest of the body. */
export interface GuardrailInput {
  phase: GuardrailPhase;
  texts: readonly string[];
  requestId: string;
  model?: string | undefined;
  tenant?: string | undefined;
}

/** Why a check could not decide (its failure mode did). */
export type GuardrailFailure = 'timeout' | 'unavailable' | 'saturated' | 'bad_response';

export interface GuardrailVerdict {
  action: GuardrailAction;
  /** `mask`: the texts to use instead, one per input text, in order. */
  texts?: string[] | undefined;
  /** A short reason code for a denial (`card`, `secret`, the service's own), never text from the input. */
  reason?: string | undefined;
  /** Set when the check failed and the failure mode decided: `open` allowed, `closed` denied. */
  failed?: { mode: 'open' | 'closed'; cause: GuardrailFailure } | undefined;
}

/** One configured guardrail. `check` never rejects: failures become verdicts through the failure mode. */
export interface Guardrail {
  readonly name: string;
  readonly kind: 'local' | 'external';
  check(input: GuardrailInput, signal?: AbortSignal): Promise<GuardrailVerdict>;
  close?(): Promise<void>;
}
