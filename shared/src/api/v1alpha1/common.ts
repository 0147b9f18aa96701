/**
 * Building blocks shared by the v1alpha1 custom resources. zod is the single source of truth: the CRD YAML in
 * crds/ is generated from these schemas, and the same schemas validate manifests in standalone mode.
 * This module must not import the operator, the proxy or @kubernetes/client-node.
 */
import { z } from 'zod';

export const GROUP = 'switchyard.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

const DURATION_PATTERN = /^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/;

/** A Go-style duration string such as `500ms`, `30s`, `1m30s`, `2h`. */
export const duration = (description: string) =>
  z.string().regex(DURATION_PATTERN, 'must be a duration such as 500ms, 30s or 1m30s').describe(description);

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** Parses a duration string (already validated by {@link duration}) into milliseconds. */
export function parseDuration(value: string): number {
  let total = 0;
  for (const m of value.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g)) {
    total += Number(m[1]) * (UNIT_MS[m[2] as string] ?? 0);
  }
  return Math.round(total);
}

/** A DNS-1123 label, as Kubernetes object names of Services and Secrets. */
export const objectName = (description: string) =>
  z
    .string()
    .min(1)
    .max(253)
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a lowercase RFC 1123 name')
    .describe(description);

/** Reference to one key of a Secret in the resource's namespace. */
export const secretKeyRef = z
  .object({
    name: objectName('Name of the Secret in the same namespace.'),
    key: z.string().min(1).max(253).describe('Key within the Secret whose value is used.'),
  })
  .strict()
  .describe('Reference to a key of a Secret in the same namespace.');
export type SecretKeyRef = z.infer<typeof secretKeyRef>;

/** metav1.Condition, as written to `status.conditions`. */
export const condition = z
  .object({
    type: z.string().describe('Type of condition in CamelCase, e.g. Ready, Accepted, ResolvedRefs.'),
    status: z.enum(['True', 'False', 'Unknown']).describe('Status of the condition.'),
    reason: z.string().describe('Machine-readable reason in CamelCase.'),
    message: z.string().describe('Human-readable details.'),
    observedGeneration: z.number().int().min(0).optional().describe('metadata.generation the condition was set for.'),
    lastTransitionTime: z.string().describe('Last time the status changed (RFC 3339).'),
  })
  .describe('Condition as in metav1.Condition.');
export type Condition = z.infer<typeof condition>;

/** The subset of ObjectMeta that translation reads. */
export const objectMeta = z
  .object({
    name: z.string().min(1),
    namespace: z.string().min(1).optional(),
    generation: z.number().int().optional(),
    uid: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
    creationTimestamp: z.string().optional(),
  })
  .loose();
export type ObjectMeta = z.infer<typeof objectMeta>;
