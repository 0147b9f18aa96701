/**
 * Building blocks shared by the v1alpha1 custom resources. zod is the single source of truth: the CRD YAML in
 * crds/ is generated from these schemas, and the same schemas validate manifests in standalone mode.
 * This module must not import the operator, the proxy or @kubernetes/client-node.
 */
import { z } from 'zod';

export const GROUP = 'switchyard.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** A rule that holds both at admission (CEL on the CRD) and in zod (standalone manifests, the operator's parse). */
export interface Rule<T> {
  /** CEL expression over `self`, as in `x-kubernetes-validations`. */
  cel: string;
  message: string;
  /** The same rule in TypeScript, over the parsed (defaulted) value. */
  check: (value: T) => boolean;
  /** Path of the offending field relative to `self` (`.fallbacks`), as `fieldPath` in the CRD. */
  field?: string;
}

/**
 * Adds rules to a schema: each becomes an `x-kubernetes-validations` entry of the generated CRD and a zod
 * refinement, so the apiserver and standalone mode refuse the same objects with the same message.
 */
export function withRules<S extends z.ZodType>(schema: S, rules: Rule<z.output<S>>[]): S {
  const holds = (r: Rule<z.output<S>>, value: z.output<S>) => {
    try {
      return r.check(value);
    } catch {
      return false; // a value the check cannot even read breaks the rule; it never throws out of a parse
    }
  };
  const refined = schema.superRefine((value, ctx) => {
    for (const r of rules) {
      if (holds(r, value)) continue;
      const path = (r.field ?? '').split('.').filter(Boolean);
      ctx.addIssue({ code: 'custom', message: r.message, path });
    }
  }) as S;
  const meta = refined.meta() ?? {};
  const existing = (meta['x-kubernetes-validations'] as unknown[] | undefined) ?? [];
  const cel = rules.map((r) => ({ rule: r.cel, message: r.message, ...(r.field ? { fieldPath: r.field } : {}) }));
  return refined.meta({ ...meta, 'x-kubernetes-validations': [...existing, ...cel] }) as S;
}

/**
 * A list of objects whose `key` field is unique: a list-map in the CRD (the apiserver refuses duplicates with
 * "Duplicate value"), checked by zod as well. `key` must be a required field of the items.
 */
export function keyedList<S extends z.ZodType<readonly Record<string, unknown>[]>>(schema: S, key: string): S {
  const refined = schema.superRefine((items, ctx) => {
    const seen = new Set<unknown>();
    items.forEach((item, i) => {
      if (seen.has(item[key])) ctx.addIssue({ code: 'custom', message: `duplicate ${key} "${item[key]}"`, path: [i] });
      seen.add(item[key]);
    });
  }) as S;
  return refined.meta({
    ...(refined.meta() ?? {}),
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': [key],
  }) as S;
}

/** A list of unique strings: a set in the CRD (the apiserver refuses duplicates), checked by zod as well. */
export function uniqueList<S extends z.ZodType<readonly string[]>>(schema: S): S {
  const refined = schema.superRefine((items, ctx) => {
    items.forEach((item, i) => {
      if (items.indexOf(item) !== i) ctx.addIssue({ code: 'custom', message: `duplicate value "${item}"`, path: [i] });
    });
  }) as S;
  return refined.meta({ ...(refined.meta() ?? {}), 'x-kubernetes-list-type': 'set' }) as S;
}

/** A map of at most `max` entries (`maxProperties` in the CRD). */
export function boundedMap<S extends z.ZodType<Record<string, unknown>>>(schema: S, max: number): S {
  const refined = schema.refine((m) => Object.keys(m).length <= max, `must have at most ${max} entries`) as S;
  return refined.meta({ ...(refined.meta() ?? {}), maxProperties: max }) as S;
}

/** Longest duration accepted anywhere (596h): just under the largest timer Node.js, and so the proxy, can arm. */
export const MAX_DURATION_MS = 596 * 3_600_000;
/** A duration with units (`500ms`, `30s`, `1m30s`), as the CRDs accept it. */
export const DURATION_PATTERN = /^([0-9]{1,6}(\.[0-9]{1,3})?(ms|s|m|h)){1,4}$/;

/** A Go-style duration string such as `500ms`, `30s`, `1m30s`, `2h`, at most {@link MAX_DURATION_MS}. */
export const duration = (description: string) =>
  withRules(
    z.string().max(64).regex(DURATION_PATTERN, 'must be a duration such as 500ms, 30s or 1m30s').describe(description),
    [
      {
        cel: "duration(self) <= duration('596h')",
        message: 'must be at most 596h',
        check: (v) => !DURATION_PATTERN.test(v) || parseDuration(v) <= MAX_DURATION_MS,
      },
    ],
  );

/** A TCP port, 0-65535, as a regular expression (RE2 and JavaScript alike). */
const PORT = '([0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])';
/** scheme://host[:port][/path]: a DNS name (letters, digits, -, _ and .), an IPv4 address or a bracketed IPv6 one. */
export const HTTP_URL = new RegExp(
  `^https?://(\\[[0-9a-fA-F:.]+\\]|[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?)(:${PORT})?(/[^\\s?#]*)?$`,
);

/** An http:// or https:// URL without credentials, query or fragment. Other schemes are refused at admission. */
export const httpUrl = (description: string) =>
  withRules(
    z
      .string()
      .max(2048)
      .regex(HTTP_URL, 'must be an http:// or https:// URL (host, optional port, path) without query or fragment')
      .describe(description),
    [
      {
        cel: "self.startsWith('http://') || self.startsWith('https://')",
        message: 'must use the http or https scheme',
        check: (v) => v.startsWith('http://') || v.startsWith('https://'),
      },
      {
        cel: 'isURL(self)',
        message: 'must be a valid URL',
        check: (v) => URL.canParse(v),
      },
    ],
  );

/** An absolute URL path such as `/health`. */
export const urlPath = (description: string) =>
  z
    .string()
    .max(1024)
    .regex(/^\/[^\s?#]*$/, 'must be a path starting with / without query or fragment')
    .describe(description);

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** An HTTP header name (an RFC 9110 token). */
export const headerName = (description: string) =>
  z
    .string()
    .min(1)
    .max(256)
    .regex(HEADER_NAME, 'must be an HTTP header name (letters, digits, -)')
    .describe(description);

/** An HTTP header value: no control characters (CR and LF would split the header). */
export const headerValue = (description: string) =>
  z
    .string()
    .max(4096)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
    .regex(/^[^\x00-\x08\x0a-\x1f\x7f]*$/, 'must not contain control characters')
    .describe(description);

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
    key: z
      .string()
      .min(1)
      .max(253)
      .regex(/^[-._a-zA-Z0-9]+$/, 'must be a Secret key (letters, digits, -, _ and .)')
      .describe('Key within the Secret whose value is used.'),
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
