/**
 * Validates values against schemas of OpenAI's published OpenAPI description, so tests check that the proxy
 * answers with the shapes the API documents. The schemas are the subset in test/fixtures/openai/schemas.json,
 * extracted (with the source version recorded) by scripts/extract-openai-schemas.ts.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';

const SPEC_PATH = resolve(import.meta.dirname, '../fixtures/openai/schemas.json');

/** OpenAPI's `nullable` is not JSON Schema: fold it into `type` (or drop it where no type is given). */
function foldNullable(node: unknown): void {
  if (Array.isArray(node)) {
    for (const n of node) foldNullable(n);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const o = node as Record<string, unknown>;
  if ('nullable' in o) {
    if (o.nullable === true && typeof o.type === 'string') o.type = [o.type, 'null'];
    if (o.nullable === true && Array.isArray(o.enum) && !o.enum.includes(null)) o.enum = [...o.enum, null];
    delete o.nullable;
  }
  for (const v of Object.values(o)) foldNullable(v);
}

/**
 * The member of a union schema whose `type` property is the value's `type` (stream events and output items are
 * unions discriminated by `type`), so an invalid value is reported against the one schema it meant to follow
 * rather than with every member's errors.
 */
function unionMember(schemas: Record<string, unknown>, union: string, value: unknown): string | undefined {
  const members = (schemas[union] as { anyOf?: { $ref?: string }[] } | undefined)?.anyOf;
  const type = (value as { type?: unknown } | null)?.type;
  if (!members || typeof type !== 'string') return undefined;
  for (const m of members) {
    const name = m.$ref?.split('/').at(-1);
    const props = name ? (schemas[name] as { properties?: { type?: { enum?: unknown[] } } }).properties : undefined;
    if (name && props?.type?.enum?.includes(type)) return name;
  }
  return undefined;
}

/**
 * Returns `validate(schemaName, value)` → list of errors (empty when valid). A value of a `type`-discriminated
 * union is checked against the union, and its errors are those of the member its `type` names.
 */
export function openAPIValidator(): (schema: string, value: unknown) => string[] {
  const spec = JSON.parse(readFileSync(SPEC_PATH, 'utf8')) as { components: { schemas: Record<string, unknown> } };
  foldNullable(spec.components);
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema({ $id: 'openai', components: spec.components });
  const check = (schema: string, value: unknown): string[] => {
    const validate = ajv.getSchema(`openai#/components/schemas/${schema}`);
    if (!validate)
      throw new Error(
        `no schema ${schema} in the extracted OpenAI schemas (add it to scripts/extract-openai-schemas.ts)`,
      );
    return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  };
  return (schema, value) => {
    const errors = check(schema, value);
    const member = errors.length ? unionMember(spec.components.schemas, schema, value) : undefined;
    return member ? check(member, value).map((e) => `${member}: ${e}`) : errors;
  };
}
