/**
 * Property: whatever the CRDs' structural schemas accept, the operator's path (zod parse, then translate) never
 * throws, every resource either reaches the snapshot or has a problem (a condition) naming it, and the snapshot is
 * one a proxy accepts. Resources are generated from the generated CRD schemas themselves (crd-values.ts), so a
 * field added to the API is covered without touching this test. Seeded: a failure names its seed.
 */
import { describe, expect, it } from 'vitest';
import { specSchema } from '../../operator/src/crds/generate.js';
import { childSchemas, type SchemaNode } from '../../operator/src/crds/structural.js';
import { SnapshotStore } from '../../proxy/src/config/store.js';
import {
  API_VERSION,
  CUSTOM_RESOURCES,
  type CustomResourceKind,
  type LLMBackend,
  type LLMPool,
  proxyConfig,
  type ResolvedEndpoint,
  type RoutePolicy,
  type Secret,
  translate,
} from '../../shared/src/index.js';
import { accountFor, PATTERNS, Random, randomSpec } from './crd-values.js';

const CASES = 400;
const SPECS = {
  LLMBackend: specSchema('LLMBackend'),
  LLMPool: specSchema('LLMPool'),
  RoutePolicy: specSchema('RoutePolicy'),
};

interface Generated {
  objects: { kind: CustomResourceKind; body: Record<string, unknown> }[];
  secrets: Secret[];
}

function generate(r: Random): Generated {
  const objects: Generated['objects'] = [];
  const secrets: Secret[] = [];
  const meta = () => ({
    name: PATTERNS['^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$']?.(r) ?? 'a',
    namespace: r.pick(['ns1', 'ns2']),
    creationTimestamp: new Date(Date.UTC(2026, 0, 1) + r.int(0, 5) * 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
  });
  const add = (kind: CustomResourceKind, count: number) => {
    for (let i = 0; i < count; i++) {
      const spec = randomSpec(kind, r);
      objects.push({ kind, body: { apiVersion: API_VERSION, kind, metadata: meta(), spec } });
    }
  };
  add('LLMBackend', r.int(1, 4));
  add('LLMPool', r.int(1, 4));
  add('RoutePolicy', r.int(0, 2));
  // Secrets for most referenced keys, some with values no header can carry.
  const refs = JSON.stringify(objects).matchAll(/"name":"([^"]+)","key":"([^"]+)"/g);
  for (const [, name, key] of refs) {
    if (!r.chance(0.8)) continue;
    for (const namespace of ['ns1', 'ns2']) {
      const value = r.pick(['sk-live-0123', ' sk-padded\n', '', 'two\r\nlines', 'é-unicode', 'x'.repeat(300)]);
      secrets.push({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: name as string, namespace },
        data: { [key as string]: Buffer.from(value).toString('base64') },
      });
    }
  }
  return { objects, secrets };
}

/** Replicas behind a Service, as EndpointSlices could describe them (some addresses odd), or no Service. */
function resolver(r: Random) {
  return (): ResolvedEndpoint[] | undefined => {
    if (r.chance(0.2)) return undefined;
    return Array.from({ length: r.int(0, 3) }, (_, i) => ({
      name: r.pick([`pod-${i}`, `ep-${i}`, 'pod.x']),
      address: r.pick([`10.0.0.${i}:8000`, `[fd00::${i}]:8000`, `10.0.0.${i}:0`]),
    }));
  };
}

describe('translation of anything the CRDs accept', () => {
  it(`never throws, leaves nothing unexplained and yields snapshots proxies accept (${CASES} cases)`, () => {
    let translated = 0;
    let refused = 0;
    for (let seed = 1; seed <= CASES; seed++) {
      const r = new Random(seed);
      const { objects, secrets } = generate(r);
      const parsed = { LLMBackend: [] as LLMBackend[], LLMPool: [] as LLMPool[], RoutePolicy: [] as RoutePolicy[] };
      for (const o of objects) {
        const result = CUSTOM_RESOURCES[o.kind].schema.safeParse(o.body);
        if (result.success) (parsed[o.kind] as unknown[]).push(result.data);
        else refused++;
      }
      let out: ReturnType<typeof translate>;
      try {
        out = translate({
          backends: parsed.LLMBackend,
          pools: parsed.LLMPool,
          policies: parsed.RoutePolicy,
          secrets,
          resolveService: resolver(r),
          now: new Date(0),
        });
      } catch (err) {
        throw new Error(`seed ${seed}: translate threw ${String(err)}\n${JSON.stringify(objects)}`);
      }
      const { config, problems } = out;
      expect(proxyConfig.safeParse(config).success, `seed ${seed}`).toBe(true);
      expect(() => new SnapshotStore().apply(config), `seed ${seed}`).not.toThrow();
      const account = accountFor(parsed, { config, problems });
      expect(account.vanished, `seed ${seed}: vanished without a problem`).toEqual([]);
      translated += account.served;
      for (const p of problems) expect(p.field, `seed ${seed}: ${p.message}`).toMatch(/^spec(\.|\[|$)/);
    }
    // not vacuous: many generated resources got through the zod parse and into snapshots, and some were refused
    expect(translated).toBeGreaterThan(CASES);
    expect(refused).toBeGreaterThan(0);
  });

  it('has a generator for every string pattern in the CRDs', () => {
    const patterns = new Set<string>();
    const walk = (n: SchemaNode) => {
      if (typeof n.pattern === 'string') patterns.add(n.pattern);
      for (const [, child] of childSchemas(n)) walk(child);
    };
    for (const s of Object.values(SPECS)) walk(s);
    expect([...patterns].filter((p) => !PATTERNS[p])).toEqual([]);
  });
});
