/**
 * The external guardrail contract (docs/guardrails.md), version 1: the proxy POSTs one JSON request per check and
 * expects a 200 with one JSON verdict. These schemas are its single source of truth: the client validates every
 * answer against them (anything else is a failed check), and the stand-in service in test/sim parses requests with
 * them.
 */
import { z } from 'zod';
import { GUARDRAIL_ACTIONS, GUARDRAIL_PHASES } from './types.js';

export const GUARDRAIL_CONTRACT_VERSION = 1;

export const guardrailCheckRequest = z.object({
  version: z.literal(GUARDRAIL_CONTRACT_VERSION),
  guardrail: z.string().describe('Name of the guardrail in the RoutePolicy (namespace/policy/name).'),
  phase: z.enum(GUARDRAIL_PHASES).describe('request: before any upstream attempt; response: the answer.'),
  requestId: z.string(),
  model: z.string().optional().describe('The model name the client asked for.'),
  tenant: z.string().optional().describe("The caller's tenant, when it presented a known key."),
  texts: z.array(z.string()).describe('Message texts (request) or answer text (response), in order.'),
});
export type GuardrailCheckRequest = z.infer<typeof guardrailCheckRequest>;

export const guardrailCheckResponse = z.object({
  action: z.enum(GUARDRAIL_ACTIONS),
  reason: z
    .string()
    .max(128)
    .regex(/^[A-Za-z0-9_.:-]*$/)
    .optional()
    .describe('Short reason code for a denial, shown to the client and in metrics-free logs.'),
  texts: z.array(z.string()).optional().describe('mask: the replacement of every text, same count and order.'),
});
export type GuardrailCheckResponse = z.infer<typeof guardrailCheckResponse>;
