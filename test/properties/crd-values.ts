/**
 * Random values that a CRD's structural schema accepts: types, enums, bounds, lengths, item counts, list-map keys
 * and sets, and the string patterns the CRDs use (each pattern needs a generator in PATTERNS; an unknown pattern
 * throws, so a new pattern cannot silently go untested). CEL rules are not applied: the values are a superset of
 * what the apiserver admits, which only makes "translation never throws" a stronger claim.
 */
import { specSchema } from '../../operator/src/crds/generate.js';
import { childSchemas, isSchemaNode, propertySchema, type SchemaNode } from '../../operator/src/crds/structural.js';
import {
  type CustomResourceKind,
  HTTP_URL,
  idOf,
  type LLMBackend,
  type LLMPool,
  type RoutePolicy,
  type TranslateResult,
} from '../../shared/src/index.js';

/** A seeded PRNG (mulberry32): the same seed gives the same values. */
export class Random {
  constructor(private state: number) {}
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }
  string(alphabet: string, min: number, max: number): string {
    let s = '';
    for (let i = this.int(min, max); i > 0; i--) s += alphabet[this.int(0, alphabet.length - 1)];
    return s;
  }
}

const LOWER = 'abcdefghijklmnopqrstuvwxyz0123456789';
const TOKEN = "!#$%&'*+.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-";
/** Printable, spaces, non-ASCII and the odd characters that break naive code. */
const ANY = `${LOWER}ABC -_./:@%?#"'\\\t{}[]é漢😀\u200b`;

/** Names drawn mostly from a small set, so references between generated resources often resolve. */
const NAMES = ['a', 'b', 'c', 'chat', 'x.y'];

function durationValue(r: Random): string {
  const parts = r.int(1, 3);
  let s = '';
  for (let i = 0; i < parts; i++) {
    const big = r.chance(0.1);
    s += `${r.int(0, big ? 999999 : 120)}${r.chance(0.2) ? `.${r.int(0, 999)}` : ''}${r.pick(['ms', 's', 'm', 'h'])}`;
  }
  return s;
}

function host(r: Random): string {
  return r.pick([
    () => `${r.int(0, 255)}.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(0, 255)}`,
    () => `[${r.pick(['::1', 'fe80::1', '2001:db8::7', '::ffff:10.0.0.1'])}]`,
    () => r.string(LOWER, 1, 12),
    () => `${r.string(LOWER, 1, 8)}.example.com`,
    () => `${r.string(LOWER, 1, 1)}${r.string(`${LOWER}-_.`, 0, 10)}${r.string(LOWER, 1, 1)}`,
  ])();
}

/** Generators of the patterns used in the CRDs, keyed by the pattern exactly as it appears in the schema. */
export const PATTERNS: Record<string, (r: Random) => string> = {
  '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$': (r) =>
    r.chance(0.8) ? r.pick(NAMES) : `${r.string(LOWER, 1, 1)}${r.string(`${LOWER}-.`, 0, 30)}${r.string(LOWER, 1, 1)}`,
  '^([0-9]{1,6}(\\.[0-9]{1,3})?(ms|s|m|h)){1,4}$': durationValue,
  [HTTP_URL.source]: (r) =>
    `${r.pick(['http', 'https'])}://${host(r)}${r.chance(0.5) ? `:${r.int(0, 65535)}` : ''}${
      r.chance(0.6) ? `/${r.string(`${LOWER}/._~%é`, 0, 20)}` : ''
    }`,
  '^\\/[^\\s?#]*$': (r) => `/${r.string(`${LOWER}/._-%é`, 0, 20)}`,
  "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$": (r) =>
    r.chance(0.5) ? r.pick(['x-tenant', 'x-session-id']) : r.string(TOKEN, 1, 20),
  '^[^\\x00-\\x08\\x0a-\\x1f\\x7f]*$': (r) => r.string(ANY.replace('\t', ''), 0, 30),
  '^[A-Z]{3}$': (r) => r.string('ABCDEFGHIJKLMNOPQRSTUVWXYZ', 3, 3),
  '^[-._a-zA-Z0-9]+$': (r) => (r.chance(0.7) ? r.pick(['key', 'api-key']) : r.string(`${LOWER}-._`, 1, 20)),
};

function stringValue(node: SchemaNode, r: Random): string {
  if (typeof node.pattern === 'string') {
    const gen = PATTERNS[node.pattern];
    if (!gen) throw new Error(`no generator for pattern ${node.pattern}`);
    return gen(r);
  }
  const min = typeof node.minLength === 'number' ? node.minLength : 0;
  const max = typeof node.maxLength === 'number' ? node.maxLength : 64;
  // mostly short strings, sometimes the longest allowed
  const len = r.chance(0.05) ? max : r.int(min, Math.min(max, Math.max(min, 24)));
  return r.chance(0.4) && min <= 1 && max >= 5 ? r.pick(NAMES).slice(0, max) : r.string(ANY, len, len);
}

function numberValue(node: SchemaNode, r: Random, integer: boolean): number {
  const min = typeof node.minimum === 'number' ? node.minimum : -1e6;
  const max = typeof node.maximum === 'number' ? node.maximum : 1e6;
  const lo = node.exclusiveMinimum === true ? min + (integer ? 1 : 1e-9) : min;
  const hi = node.exclusiveMaximum === true ? max - (integer ? 1 : 1e-9) : max;
  if (r.chance(0.15)) return r.pick([lo, hi]);
  const v = lo + r.next() * (hi - lo);
  return integer ? Math.min(hi, Math.max(lo, Math.round(v))) : v;
}

/** Keys a map may have, from the CEL rule the structural converter writes for record keys. */
function mapKey(node: SchemaNode, r: Random): string {
  const rules = (node['x-kubernetes-validations'] ?? []) as { rule: string }[];
  for (const { rule } of rules) {
    const m = /k\.matches\((".*")\)/.exec(rule);
    if (m) return stringValue({ type: 'string', pattern: JSON.parse(m[1] as string) as string }, r);
  }
  return r.string(ANY, 1, 16);
}

/** A random value accepted by the structural schema `node`. */
export function valueFor(node: SchemaNode, r: Random): unknown {
  if (Array.isArray(node.enum)) return r.pick(node.enum);
  if (node['x-kubernetes-int-or-string'] === true) {
    return r.chance(0.5) ? r.int(1, 65535) : r.pick(['http', 'metrics', 'admin']);
  }
  switch (node.type) {
    case 'string':
      return stringValue(node, r);
    case 'integer':
      return numberValue(node, r, true);
    case 'number':
      return numberValue(node, r, false);
    case 'boolean':
      return r.chance(0.5);
    case 'array':
      return arrayValue(node, r);
    case 'object':
      return objectValue(node, r);
    default:
      throw new Error(`no generator for type ${String(node.type)}`);
  }
}

function arrayValue(node: SchemaNode, r: Random): unknown[] {
  const min = typeof node.minItems === 'number' ? node.minItems : 0;
  const max = typeof node.maxItems === 'number' ? node.maxItems : 8;
  const n = r.int(min, Math.min(max, min + 3));
  const items: unknown[] = [];
  const keys = (node['x-kubernetes-list-map-keys'] ?? []) as string[];
  const seen = new Set<string>();
  for (let tries = 0; items.length < n && tries < n * 10; tries++) {
    const item = valueFor(isSchemaNode(node.items) ? node.items : {}, r);
    const identity =
      node['x-kubernetes-list-type'] === 'set'
        ? JSON.stringify(item)
        : keys.length > 0
          ? JSON.stringify(keys.map((k) => (isSchemaNode(item) ? item[k] : undefined)))
          : undefined;
    if (identity !== undefined) {
      if (seen.has(identity)) continue;
      seen.add(identity);
    }
    items.push(item);
  }
  return items;
}

function objectValue(node: SchemaNode, r: Random): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const props = childSchemas(node).filter(([step]) => step.startsWith('.') && step !== '.*');
  const required = new Set(Array.isArray(node.required) ? node.required : []);
  for (const [step, child] of props) {
    const k = step.slice(1);
    if (required.has(k) || r.chance(0.5)) out[k] = valueFor(child, r);
  }
  const extra = isSchemaNode(node.additionalProperties) ? node.additionalProperties : undefined;
  if (extra && props.length === 0) {
    const max = typeof node.maxProperties === 'number' ? node.maxProperties : 4;
    for (let i = r.int(0, Math.min(max, 3)); i > 0; i--) out[mapKey(node, r)] = valueFor(extra, r);
  }
  return out;
}

const SPECS = {
  LLMBackend: specSchema('LLMBackend'),
  LLMPool: specSchema('LLMPool'),
  RoutePolicy: specSchema('RoutePolicy'),
};

/**
 * A random spec of `kind` from its CRD schema. Backends mostly get exactly one of serviceRef, url and endpoints
 * (what their CEL rule admits), so most of them get past admission.
 */
export function randomSpec(kind: CustomResourceKind, r: Random): Record<string, unknown> {
  const spec = objectValue(SPECS[kind], r);
  if (kind === 'LLMBackend' && r.chance(0.8)) {
    const keep = r.pick(['serviceRef', 'url', 'endpoints']);
    for (const k of ['serviceRef', 'url', 'endpoints']) if (k !== keep) delete spec[k];
    if (!(keep in spec)) spec[keep] = valueFor(propertySchema(SPECS.LLMBackend, keep) ?? {}, r);
  }
  return spec;
}

/** Resources by kind, as translate() gets them. */
export interface ParsedResources {
  LLMBackend: LLMBackend[];
  LLMPool: LLMPool[];
  RoutePolicy: RoutePolicy[];
}

/**
 * How translation treated each resource: `served` (in the snapshot) or `explained` (a problem names it), and
 * `vanished`, those neither served nor explained (must be empty: no resource disappears silently).
 */
export function accountFor(resources: ParsedResources, result: TranslateResult) {
  const served = new Set([
    ...result.config.backends.map((b) => `LLMBackend ${b.id}`),
    ...result.config.pools.map((p) => `LLMPool ${p.id}`),
    ...result.config.policies.map((p) => `RoutePolicy ${p.id}`),
  ]);
  const explained = new Set(result.problems.map((p) => `${p.kind} ${p.namespace}/${p.name}`));
  const keys = (['LLMBackend', 'LLMPool', 'RoutePolicy'] as const).flatMap((kind) =>
    resources[kind].map((o) => `${kind} ${idOf(o)}`),
  );
  return {
    served: keys.filter((k) => served.has(k)).length,
    vanished: keys.filter((k) => !served.has(k) && !explained.has(k)),
  };
}
