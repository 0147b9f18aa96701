/** Reads multi-document YAML manifests into validated resources, with errors naming resource and field. */
import { parseAllDocuments } from 'yaml';
import type { z } from 'zod';
import {
  API_VERSION,
  type LLMBackend,
  type LLMPool,
  manifest,
  type RoutePolicy,
  type Secret,
} from '../api/v1alpha1/index.js';
import type { TranslateInput } from '../translate/index.js';

/** Thrown when manifests are invalid; `problems` has one line per error. */
export class ManifestError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid manifests:\n  ${problems.join('\n  ')}`);
    this.name = 'ManifestError';
  }
}

const KNOWN = new Set(['LLMBackend', 'LLMPool', 'RoutePolicy', 'Secret']);

function describeDoc(doc: unknown, index: number, source: string): string {
  const d = (doc ?? {}) as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
  const name = typeof d.metadata?.name === 'string' ? d.metadata.name : `<document ${index + 1}>`;
  const ns = typeof d.metadata?.namespace === 'string' ? d.metadata.namespace : 'default';
  return `${typeof d.kind === 'string' ? d.kind : 'manifest'} ${ns}/${name} (${source})`;
}

/** Formats a zod issue path as `spec.backendRefs[1].weight`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>(
    (acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)),
    '',
  );
}

/** One line per zod issue: `field: message`. */
export function formatZodIssues(error: z.ZodError): string[] {
  return error.issues.map((i) => `${formatPath(i.path) || '(root)'}: ${i.message}`);
}

/**
 * Parses YAML text (several documents, `---` separated, `kind: List` allowed) into translation input.
 * Throws ManifestError listing every invalid document; documents of other kinds are ignored.
 */
export function parseManifests(text: string, source = 'manifests'): Omit<TranslateInput, 'resolveService' | 'now'> {
  const out = {
    backends: [] as LLMBackend[],
    pools: [] as LLMPool[],
    policies: [] as RoutePolicy[],
    secrets: [] as Secret[],
  };
  const errors: string[] = [];
  const docs = parseAllDocuments(text);
  const items: unknown[] = [];
  for (const d of Array.isArray(docs) ? docs : [docs]) {
    if (d.errors.length > 0) {
      errors.push(...d.errors.map((e) => `${source}: YAML ${e.message.split('\n')[0]}`));
      continue;
    }
    const value: unknown = d.toJS();
    if (value === null || value === undefined) continue;
    const v = value as { kind?: unknown; items?: unknown };
    if (v.kind === 'List' && Array.isArray(v.items)) items.push(...v.items);
    else items.push(value);
  }
  items.forEach((doc, i) => {
    const kind = (doc as { kind?: unknown }).kind;
    if (typeof kind !== 'string' || !KNOWN.has(kind)) {
      if ((doc as { apiVersion?: unknown }).apiVersion === API_VERSION)
        errors.push(`${describeDoc(doc, i, source)}: kind: unknown kind ${JSON.stringify(kind)}`);
      return;
    }
    const parsed = manifest.safeParse(doc);
    if (!parsed.success) {
      for (const line of formatZodIssues(parsed.error)) errors.push(`${describeDoc(doc, i, source)}: ${line}`);
      return;
    }
    const m = parsed.data;
    if (m.kind === 'LLMBackend') out.backends.push(m);
    else if (m.kind === 'LLMPool') out.pools.push(m);
    else if (m.kind === 'RoutePolicy') out.policies.push(m);
    else out.secrets.push(m);
  });
  if (errors.length > 0) throw new ManifestError(errors);
  return out;
}
