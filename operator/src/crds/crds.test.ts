import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { crdSchema, renderCrds, specSchema } from './generate.js';
import { childSchemas, type SchemaNode, toStructural } from './structural.js';

const CRDS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'crds');

describe('generated CRDs', () => {
  it('crds/ is up to date with the zod schemas (run: npx tsx scripts/generate-crds.ts)', () => {
    for (const { file, yaml } of renderCrds()) {
      expect(readFileSync(join(CRDS, file), 'utf8'), `crds/${file} is stale`).toBe(yaml);
    }
  });

  it('describes every object field, so kubectl explain works', () => {
    const missing: string[] = [];
    const walk = (n: SchemaNode, path: string) => {
      for (const [step, child] of childSchemas(n)) {
        if (step.startsWith('.') && step !== '.*' && typeof child.description !== 'string' && step !== '.metadata')
          missing.push(`${path}${step}`);
        walk(child, `${path}${step}`);
      }
    };
    for (const kind of ['LLMBackend', 'LLMPool', 'RoutePolicy'] as const) walk(crdSchema(kind), kind);
    expect(missing).toEqual([]);
  });
  it('bounds every string, list and map of the specs, so no resource carries megabytes', () => {
    const unbounded: string[] = [];
    let strings = 0;
    const walk = (n: SchemaNode, path: string) => {
      if (n.type === 'string') strings++;
      if (n.type === 'string' && n.enum === undefined && n.maxLength === undefined && n.pattern !== '^[A-Z]{3}$')
        unbounded.push(`${path}: string without maxLength`);
      if (n.type === 'array' && n.maxItems === undefined) unbounded.push(`${path}: list without maxItems`);
      if (n.type === 'object' && n.additionalProperties && n.maxProperties === undefined)
        unbounded.push(`${path}: map without maxProperties`);
      for (const [step, child] of childSchemas(n)) walk(child, `${path}${step}`);
    };
    for (const kind of ['LLMBackend', 'LLMPool', 'RoutePolicy'] as const) walk(specSchema(kind), `${kind}.spec`);
    expect(unbounded).toEqual([]);
    expect(strings).toBeGreaterThan(50);
  });
});

describe('toStructural', () => {
  it('turns an int|string union into x-kubernetes-int-or-string with its bounds as CEL', () => {
    const out = toStructural({
      description: 'port',
      anyOf: [
        { type: 'integer', minimum: 1, maximum: 65535 },
        { type: 'string', maxLength: 15 },
      ],
    });
    expect(out).toMatchObject({ 'x-kubernetes-int-or-string': true, description: 'port' });
    expect(out['x-kubernetes-validations']).toEqual([
      expect.objectContaining({ rule: 'type(self) == int ? self >= 1 && self <= 65535 : size(self) <= 15' }),
    ]);
    expect(out.anyOf).toBeUndefined();
  });

  it('drops $schema, propertyNames, unknown formats and safe-integer bounds; const becomes enum', () => {
    const out = toStructural({
      $schema: 'x',
      type: 'object',
      additionalProperties: false,
      properties: {
        a: { type: 'string', const: 'v' },
        b: { type: 'integer', minimum: -9007199254740991, maximum: 9007199254740991 },
        c: { type: 'string', format: 'starts_with', pattern: '^/' },
        d: { type: 'object', propertyNames: { type: 'string' }, additionalProperties: { type: 'string' } },
        e: { type: 'number', exclusiveMinimum: 0 },
      },
    });
    expect(out).toEqual({
      type: 'object',
      properties: {
        a: { type: 'string', enum: ['v'] },
        b: { type: 'integer' },
        c: { type: 'string', pattern: '^/' },
        d: { type: 'object', additionalProperties: { type: 'string' } },
        e: { type: 'number', minimum: 0, exclusiveMinimum: true },
      },
    });
  });

  it('rejects constructs without a structural form', () => {
    expect(() => toStructural({ $ref: '#/x' })).toThrow(/\$ref/);
    expect(() => toStructural({ anyOf: [{ type: 'string' }, { type: 'boolean' }] })).toThrow(/unions/);
  });
});
