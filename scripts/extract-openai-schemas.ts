/**
 * Extracts the subset of OpenAI's published OpenAPI description that the conformance tests validate against into
 * `test/fixtures/openai/schemas.json`, so no test reads anything outside the repository.
 *
 *   npx tsx scripts/extract-openai-schemas.ts <path/to/openapi.json>
 *
 * Keeps the named root schemas and every schema they reference, with annotations (descriptions, titles, examples,
 * vendor extensions) removed: only the structure the validator checks. Records the spec version and the SHA-256 of
 * the source file so a refresh is traceable. Add a root to ROOTS when a test needs another schema.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** Schemas the tests validate against (with everything they reference). */
export const ROOTS = [
  'CreateChatCompletionRequest',
  'CreateChatCompletionResponse',
  'CreateChatCompletionStreamResponse',
  'CreateCompletionRequest',
  'CreateCompletionResponse',
  'CreateEmbeddingRequest',
  'CreateEmbeddingResponse',
  'CreateResponse',
  'Response',
  'ResponseStreamEvent',
] as const;

const OUT = resolve(import.meta.dirname, '../test/fixtures/openai/schemas.json');
const ANNOTATIONS = new Set(['description', 'title', 'example', 'examples', 'deprecated']);
/** Keywords whose value maps names to schemas (the names are data, not annotations). */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Drops annotations from a schema, recursing into subschemas. */
function stripSchema(node: Json): Json {
  if (Array.isArray(node)) return node.map(stripSchema);
  if (node === null || typeof node !== 'object') return node;
  const out: { [k: string]: Json } = {};
  for (const [k, v] of Object.entries(node)) {
    if (ANNOTATIONS.has(k) || k.startsWith('x-')) continue;
    if (SCHEMA_MAPS.has(k) && v !== null && typeof v === 'object' && !Array.isArray(v)) {
      out[k] = Object.fromEntries(Object.entries(v).map(([name, s]) => [name, stripSchema(s)]));
    } else {
      out[k] = stripSchema(v);
    }
  }
  return out;
}

/** Names of `#/components/schemas/*` referenced anywhere under `node`. */
function refsOf(node: Json, into: string[]): void {
  if (Array.isArray(node)) for (const n of node) refsOf(n, into);
  else if (node !== null && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')) into.push(v.slice(21));
      else refsOf(v, into);
    }
  }
}

function main(): void {
  const source = process.argv[2];
  if (!source) {
    console.error('usage: npx tsx scripts/extract-openai-schemas.ts <openapi.json>');
    process.exit(2);
  }
  const raw = readFileSync(source);
  const spec = JSON.parse(raw.toString('utf8')) as {
    info: { version: string };
    components: { schemas: Record<string, Json> };
  };
  const all = spec.components.schemas;
  const keep = new Map<string, Json>();
  const todo: string[] = [...ROOTS];
  while (todo.length > 0) {
    const name = todo.pop() as string;
    if (keep.has(name)) continue;
    const schema = all[name];
    if (schema === undefined) throw new Error(`schema ${name} is not in ${source}`);
    keep.set(name, stripSchema(schema));
    refsOf(schema, todo);
  }
  const schemas = Object.fromEntries([...keep.entries()].sort(([a], [b]) => a.localeCompare(b)));
  const out = {
    source: {
      document: 'OpenAI API OpenAPI description (github.com/openai/openai-openapi)',
      specVersion: spec.info.version,
      sha256: createHash('sha256').update(raw).digest('hex'),
      roots: ROOTS,
    },
    components: { schemas },
  };
  writeFileSync(OUT, `${JSON.stringify(out)}\n`);
  console.error(`wrote ${keep.size} schemas (spec ${spec.info.version}) to ${OUT}`);
}

main();
