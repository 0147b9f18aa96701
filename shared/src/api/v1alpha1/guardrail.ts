/**
 * Guardrails of a RoutePolicy: content checks on the request (before any upstream attempt) and on the answer
 * (streamed answers through a window of held-back characters). A guardrail is either the built-in local detector
 * (masks or denies emails, phone numbers, card numbers, IBANs and API-key-like secrets) or an external HTTP service
 * speaking the guardrail contract (docs/guardrails.md). Rules and tenants name the guardrails that apply to them.
 */
import { z } from 'zod';
import { duration, httpUrl, objectName, secretKeyRef, uniqueList, withRules } from './common.js';

/** What the local detector finds. */
export const DETECTOR_KINDS = ['email', 'phone', 'card', 'iban', 'secret'] as const;
export type DetectorKind = (typeof DETECTOR_KINDS)[number];

export const GUARDRAIL_PHASES = ['request', 'response'] as const;

const kinds = (description: string) =>
  uniqueList(z.array(z.enum(DETECTOR_KINDS)).max(DETECTOR_KINDS.length))
    .optional()
    .describe(description);

export const localGuardrail = withRules(
  z
    .object({
      mask: kinds('Kinds replaced by a placeholder such as [EMAIL] before the text goes on.'),
      deny: kinds('Kinds that deny the request (or end the answer) when found.'),
    })
    .strict(),
  [
    {
      cel: '(has(self.mask) && size(self.mask) > 0) || (has(self.deny) && size(self.deny) > 0)',
      message: 'must name at least one kind to mask or deny',
      check: (l) => (l.mask ?? []).length + (l.deny ?? []).length > 0,
    },
    {
      cel: '!has(self.mask) || !has(self.deny) || !self.mask.exists(k, k in self.deny)',
      message: 'a kind is either masked or denied',
      check: (l) => !(l.mask ?? []).some((k) => (l.deny ?? []).includes(k)),
    },
  ],
);

export const externalGuardrail = z
  .object({
    url: httpUrl('URL the guardrail checks are POSTed to (the contract in docs/guardrails.md).'),
    timeout: duration('How long a check may take, waiting for a free slot included.').default('1s'),
    failureMode: z
      .enum(['open', 'closed'])
      .default('closed')
      .describe('When the service fails or times out: open lets the text through, closed denies it.'),
    maxConcurrency: z
      .number()
      .int()
      .min(1)
      .max(4096)
      .default(32)
      .describe('Checks in flight from one proxy at once (as many more may wait).'),
    credentialsRef: secretKeyRef.optional().describe('Secret key sent as a bearer token to the service.'),
  })
  .strict();

export const guardrail = withRules(
  z
    .object({
      name: objectName('Name rules and tenants refer to; shown in metrics, logs and denials.').max(63),
      phases: uniqueList(z.array(z.enum(GUARDRAIL_PHASES)).min(1).max(2))
        .optional()
        .describe('What is checked: the request, the answer, or both (the default).'),
      streamWindowChars: z
        .number()
        .int()
        .min(16)
        .max(65536)
        .default(128)
        .describe(
          'Streamed answers: characters held back and checked before they reach the client, so a finding split across tokens is caught while tokens keep flowing.',
        ),
      local: localGuardrail.optional().describe('The built-in detector.'),
      external: externalGuardrail.optional().describe('An external guardrail service.'),
    })
    .strict(),
  [
    {
      cel: 'has(self.local) != has(self.external)',
      message: 'exactly one of local or external must be set',
      check: (g) => (g.local === undefined) !== (g.external === undefined),
    },
  ],
);
export type GuardrailSpec = z.infer<typeof guardrail>;

/** A list of guardrail names (of the same RoutePolicy). */
export const guardrailNames = (description: string) =>
  uniqueList(z.array(z.string().min(1).max(63)).max(16))
    .optional()
    .describe(description);
