/**
 * Turns the JSON Schema that zod emits (draft 2020-12) into a Kubernetes *structural* OpenAPI v3 schema:
 * every node typed, no `$schema`/`$ref`/`propertyNames`, `const` as a one-value enum, int|string unions as
 * `x-kubernetes-int-or-string` (their bounds kept as a CEL rule), record key constraints (`propertyNames`) as a
 * CEL rule over the keys, 2020-12 numeric exclusive bounds as draft-4 booleans, formats Kubernetes does not know
 * dropped, and `descriptions`, `default`s and `x-kubernetes-validations` kept.
 *
 * `additionalProperties: false` (zod `.strict()`) is dropped: the apiserver forbids it next to `properties`
 * ("additionalProperties and properties are mutual exclusive"); structural pruning plus kubectl's default strict
 * field validation reject unknown fields instead.
 */

/** A JSON Schema node, as plain JSON. */
export type SchemaNode = { [key: string]: unknown };

/** Whether a JSON value is a schema node (a plain object). */
export const isSchemaNode = (v: unknown): v is SchemaNode => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The sub-schema of property `key` of `n`; undefined when it has none. */
export function propertySchema(n: SchemaNode | undefined, key: string): SchemaNode | undefined {
  const child = n && isSchemaNode(n.properties) ? n.properties[key] : undefined;
  return isSchemaNode(child) ? child : undefined;
}

/**
 * The sub-schemas of `n` with the path step to each: `.name` per property, `[]` for list items, `.*` for map values.
 */
export function childSchemas(n: SchemaNode): [string, SchemaNode][] {
  const out: [string, SchemaNode][] = [];
  if (isSchemaNode(n.properties))
    for (const [k, v] of Object.entries(n.properties)) if (isSchemaNode(v)) out.push([`.${k}`, v]);
  if (isSchemaNode(n.items)) out.push(['[]', n.items]);
  if (isSchemaNode(n.additionalProperties)) out.push(['.*', n.additionalProperties]);
  return out;
}

/** Formats the Kubernetes OpenAPI validator understands (k8s.io/kube-openapi `strfmt` default registry). */
const KNOWN_FORMATS = new Set([
  'bsonobjectid',
  'uri',
  'email',
  'hostname',
  'ipv4',
  'ipv6',
  'cidr',
  'mac',
  'uuid',
  'uuid3',
  'uuid4',
  'uuid5',
  'isbn',
  'isbn10',
  'isbn13',
  'creditcard',
  'ssn',
  'hexcolor',
  'rgbcolor',
  'byte',
  'password',
  'date',
  'duration',
  'datetime',
  'date-time',
  'int32',
  'int64',
  'float',
  'double',
]);

/** Keys copied through as they are (after the node's own children were converted). */
const PASSTHROUGH = new Set([
  'type',
  'description',
  'default',
  'enum',
  'pattern',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'minimum',
  'maximum',
  'multipleOf',
  'required',
  'uniqueItems',
  'minProperties',
  'maxProperties',
  'x-kubernetes-validations',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-int-or-string',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'nullable',
  'example',
]);

const isNode = (v: unknown): v is SchemaNode => typeof v === 'object' && v !== null && !Array.isArray(v);
const SAFE_INT = Number.MAX_SAFE_INTEGER;

/** CEL rule enforcing the bounds zod put on the integer and string branches of an int-or-string union. */
function intOrStringRule(int: SchemaNode, str: SchemaNode): { rule: string; message: string } | undefined {
  const intParts: string[] = [];
  const strParts: string[] = [];
  if (typeof int.minimum === 'number') intParts.push(`self >= ${int.minimum}`);
  if (typeof int.maximum === 'number') intParts.push(`self <= ${int.maximum}`);
  if (typeof str.minLength === 'number') strParts.push(`size(self) >= ${str.minLength}`);
  if (typeof str.maxLength === 'number') strParts.push(`size(self) <= ${str.maxLength}`);
  if (intParts.length === 0 && strParts.length === 0) return undefined;
  const join = (p: string[]) => (p.length === 0 ? 'true' : p.join(' && '));
  const range = `an integer in [${int.minimum ?? '-inf'}, ${int.maximum ?? 'inf'}]`;
  const len = `a string of ${str.minLength ?? 0} to ${str.maxLength ?? 'any'} characters`;
  return { rule: `type(self) == int ? ${join(intParts)} : ${join(strParts)}`, message: `must be ${range} or ${len}` };
}

/** CEL rule for the keys of a map, from the `propertyNames` zod emits for a record with a constrained key. */
function propertyNamesRule(names: unknown): { rule: string; message: string } | undefined {
  if (!isNode(names)) return undefined;
  const parts: string[] = [];
  const said: string[] = [];
  if (typeof names.maxLength === 'number') {
    parts.push(`size(k) <= ${names.maxLength}`);
    said.push(`have at most ${names.maxLength} characters`);
  }
  if (typeof names.pattern === 'string') {
    parts.push(`k.matches(${JSON.stringify(names.pattern)})`);
    said.push(`match ${names.pattern}`);
  }
  if (parts.length === 0) return undefined;
  return { rule: `self.all(k, ${parts.join(' && ')})`, message: `keys must ${said.join(' and ')}` };
}

function convertIntOrString(node: SchemaNode, branches: SchemaNode[]): SchemaNode | undefined {
  const types = branches.map((b) => b.type);
  if (branches.length !== 2 || !types.includes('integer') || !types.includes('string')) return undefined;
  const int = branches.find((b) => b.type === 'integer') as SchemaNode;
  const str = branches.find((b) => b.type === 'string') as SchemaNode;
  const out: SchemaNode = { 'x-kubernetes-int-or-string': true };
  if (typeof node.description === 'string') out.description = node.description;
  if (node.default !== undefined) out.default = node.default;
  const rule = intOrStringRule(int, str);
  const existing = Array.isArray(node['x-kubernetes-validations']) ? node['x-kubernetes-validations'] : [];
  if (rule || existing.length > 0) out['x-kubernetes-validations'] = [...existing, ...(rule ? [rule] : [])];
  return out;
}

const KEY_ORDER = ['type', 'x-kubernetes-int-or-string', 'description', 'default', 'required'];
const rank = (k: string) =>
  KEY_ORDER.includes(k) ? KEY_ORDER.indexOf(k) : k === 'properties' || k === 'items' ? 99 : 50;

/** Same node with keys in a readable order: type and description first, children last. */
function ordered(node: SchemaNode): SchemaNode {
  return Object.fromEntries(Object.entries(node).sort(([a], [b]) => rank(a) - rank(b)));
}

/** Converts one node (recursively). Throws on constructs that have no structural equivalent. */
export function toStructural(node: SchemaNode, path = '$'): SchemaNode {
  return ordered(convert(node, path));
}

function convert(node: SchemaNode, path: string): SchemaNode {
  if ('$ref' in node) throw new Error(`${path}: $ref is not supported in CRD schemas (inline the schema)`);
  const union = (node.anyOf ?? node.oneOf) as unknown;
  if (Array.isArray(union)) {
    const converted = convertIntOrString(node, union.filter(isNode));
    if (converted) return converted;
    throw new Error(`${path}: unions other than int|string have no structural form`);
  }
  const out: SchemaNode = {};
  for (const [key, value] of Object.entries(node)) {
    if (PASSTHROUGH.has(key)) out[key] = value;
  }
  if ('const' in node) out.enum = [node.const];
  if (typeof node.format === 'string' && KNOWN_FORMATS.has(node.format)) out.format = node.format;
  if (typeof node.exclusiveMinimum === 'number')
    Object.assign(out, { minimum: node.exclusiveMinimum, exclusiveMinimum: true });
  if (typeof node.exclusiveMaximum === 'number')
    Object.assign(out, { maximum: node.exclusiveMaximum, exclusiveMaximum: true });
  // zod's implicit safe-integer bounds on every int are noise in a CRD.
  if (out.minimum === -SAFE_INT) delete out.minimum;
  if (out.maximum === SAFE_INT) delete out.maximum;
  if (isNode(node.properties)) {
    out.properties = Object.fromEntries(
      Object.entries(node.properties).map(([k, v]) => [k, toStructural(v as SchemaNode, `${path}.${k}`)]),
    );
    if (Array.isArray(out.required) && out.required.length === 0) delete out.required;
  }
  if (isNode(node.items)) out.items = toStructural(node.items, `${path}[]`);
  const keys = propertyNamesRule(node.propertyNames);
  if (keys) out['x-kubernetes-validations'] = [...((out['x-kubernetes-validations'] as unknown[]) ?? []), keys];
  const ap = node.additionalProperties;
  if (isNode(ap) && !isNode(node.properties)) {
    if (Object.keys(ap).length === 0) out['x-kubernetes-preserve-unknown-fields'] = true;
    else out.additionalProperties = toStructural(ap, `${path}.*`);
  } else if (isNode(ap) && Object.keys(ap).length === 0) {
    out['x-kubernetes-preserve-unknown-fields'] = true;
  }
  if (out.type === undefined && out['x-kubernetes-int-or-string'] === undefined) {
    if (out['x-kubernetes-preserve-unknown-fields'] === true) out.type = 'object';
    else throw new Error(`${path}: every node of a structural schema needs a type`);
  }
  return out;
}
