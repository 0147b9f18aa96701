/**
 * The generated CRDs against a real kube-apiserver: they install, the samples apply, `kubectl get` shows the
 * printer columns, `kubectl explain` shows descriptions, and invalid manifests are rejected with readable messages.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_VERSION,
  CUSTOM_RESOURCES,
  type CustomResourceKind,
  type LLMBackend,
  type LLMPool,
  type RoutePolicy,
  translate,
} from '../../shared/src/index.js';
import { type ControlPlane, startControlPlane } from '../control-plane/index.js';
import { accountFor, Random, randomSpec } from '../properties/crd-values.js';
import { INVALID_SPECS } from '../support/invalid-specs.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CRDS = ['llmbackends', 'llmpools', 'routepolicies'].map((p) => join(ROOT, 'crds', `${p}.yaml`));

let cp: ControlPlane;

beforeAll(async () => {
  cp = await startControlPlane();
  const applied = await cp.kubectl(['apply', ...CRDS.flatMap((f) => ['-f', f])]);
  expect(applied.stderr).toBe('');
  const established = await cp.kubectl(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']);
  expect(established.code, established.stderr).toBe(0);
});

afterAll(async () => {
  await cp?.stop();
});

const backend = (spec: string, name = 'b') => `
apiVersion: switchyard.dev/v1alpha1
kind: LLMBackend
metadata: { name: ${name}, namespace: default }
spec:
${spec}`;

describe('CRDs on a real apiserver', () => {
  it('accepts the samples and shows the printer columns', async () => {
    const samples = await cp.kubectl(['apply', '-f', join(ROOT, 'crds', 'samples')]);
    expect(samples.code, samples.stderr).toBe(0);
    const pool = await cp.kubectl(['apply', '-f', '-'], {
      input: `apiVersion: switchyard.dev/v1alpha1
kind: RoutePolicy
metadata: { name: canary, namespace: default }
spec:
  rules:
    - match: { model: { value: llama } }
      pools: [{ name: llama, weight: 90 }, { name: embeddings, weight: 10 }]
`,
    });
    expect(pool.code, pool.stderr).toBe(0);
    const got = await cp.kubectl(['get', 'llmbackends,llmpools,routepolicies', '-n', 'default']);
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout).toMatch(/NAME\s+PROVIDER\s+READY\s+REPLICAS\s+AGE/);
    expect(got.stdout).toMatch(/NAME\s+MODEL\s+READY\s+ENDPOINTS\s+PROXIES\s+AGE/);
    expect(got.stdout).toMatch(/NAME\s+ACCEPTED\s+RESOLVEDREFS\s+AGE/);
    expect(got.stdout).toContain('llama-3.1-8b');
    const short = await cp.kubectl(['get', 'llmp,llmb,rp', '-n', 'default', '-o', 'name']);
    expect(short.stdout).toContain('llmpool.switchyard.dev/llama');
  });

  it('applies defaults and serves descriptions to kubectl explain', async () => {
    const created = await cp.kubectl(['apply', '-f', '-'], {
      input: backend(
        '  provider: vllm\n  serviceRef: { name: vllm, port: 8000 }\n  models: [{ name: m }]\n',
        'defaults',
      ),
    });
    expect(created.code, created.stderr).toBe(0);
    const got = await cp.kubectl(['get', 'llmbackend', 'defaults', '-n', 'default', '-o', 'jsonpath={.spec.weight}']);
    expect(got.stdout).toBe('1');
    const explain = await cp.kubectl(['explain', 'llmbackends.spec.serviceRef.port']);
    expect(explain.stdout).toContain('Service port number or name');
  });

  it('rejects both serviceRef and url with the CEL message', async () => {
    const r = await cp.kubectl(['apply', '-f', '-'], {
      input: backend(`  provider: vllm
  url: https://example.com/v1
  serviceRef: { name: vllm, port: 8000 }
  models: [{ name: m }]`),
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('exactly one of serviceRef, url or endpoints must be set');
  });

  it('rejects a negative weight naming the field', async () => {
    const r = await cp.kubectl(['apply', '-f', '-'], {
      input: backend(`  provider: vllm
  url: https://example.com/v1
  weight: -1
  models: [{ name: m }]`),
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(
      /spec\.weight: Invalid value: -1: spec\.weight in body should be greater than or equal to 0/,
    );
  });

  it('rejects a missing required field naming it', async () => {
    const r = await cp.kubectl(['apply', '-f', '-'], {
      input: backend(`  provider: vllm
  url: https://example.com/v1`),
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/spec\.models: Required value/);
  });

  it('rejects an out-of-range int-or-string port and an unknown field', async () => {
    const port = await cp.kubectl(['apply', '-f', '-'], {
      input: backend(`  provider: vllm
  serviceRef: { name: vllm, port: 70000 }
  models: [{ name: m }]`),
    });
    expect(port.code).not.toBe(0);
    expect(port.stderr).toContain('must be an integer in [1, 65535]');
    const unknown = await cp.kubectl(['apply', '-f', '-'], {
      input: backend(`  provider: vllm
  url: https://example.com/v1
  modelz: [{ name: m }]
  models: [{ name: m }]`),
    });
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('unknown field "spec.modelz"');
  });

  it.each(INVALID_SPECS.map((c, i) => [c.kind, c.what, c, i] as const))(
    '%s: refuses %s, naming the field',
    async (kind, _what, c, i) => {
      const input = JSON.stringify({ apiVersion: API_VERSION, kind, metadata: { name: `bad-${i}` }, spec: c.spec });
      const r = await cp.kubectl(['create', '-n', 'default', '-f', '-'], { input });
      expect(r.code, r.stdout).not.toBe(0);
      expect(r.stderr).toContain(c.apiserver);
    },
  );

  it('admits generated resources exactly when zod does, and translates them, explaining every one left out', async () => {
    const r = new Random(2026);
    const kinds: CustomResourceKind[] = ['LLMBackend', 'LLMPool', 'RoutePolicy'];
    const admitted = { LLMBackend: [] as LLMBackend[], LLMPool: [] as LLMPool[], RoutePolicy: [] as RoutePolicy[] };
    // what the apiserver admits and zod (standalone mode, the operator's parse) refuses; the operator would report
    // it as Accepted=False, but the two schemas are meant to agree
    const disagree: string[] = [];
    let refused = 0;
    for (let i = 0; i < 60; i++) {
      const kind = kinds[i % 3] as CustomResourceKind;
      const body = { apiVersion: API_VERSION, kind, metadata: { name: `gen-${i}`, namespace: 'default' } };
      const input = JSON.stringify({ ...body, spec: randomSpec(kind, r) });
      // the object exactly as the apiserver would store it (defaults applied), without storing it
      const res = await cp.kubectl(['create', '--dry-run=server', '-o', 'json', '-f', '-'], { input });
      if (res.code !== 0) {
        expect(res.stderr, input).toMatch(/spec[.[:]/);
        refused++;
        continue;
      }
      const parsed = CUSTOM_RESOURCES[kind].schema.safeParse(JSON.parse(res.stdout));
      if (parsed.success) (admitted[kind] as unknown[]).push(parsed.data);
      else disagree.push(`${kind} gen-${i}: ${parsed.error.issues.map((x) => x.message).join('; ')}`);
    }
    const result = translate({
      backends: admitted.LLMBackend,
      pools: admitted.LLMPool,
      policies: admitted.RoutePolicy,
      secrets: [],
      resolveService: () => undefined,
    });
    expect(accountFor(admitted, result).vanished).toEqual([]);
    const total = admitted.LLMBackend.length + admitted.LLMPool.length + admitted.RoutePolicy.length;
    console.log(`[crds] generated 60: ${refused} refused at admission, ${total} admitted and translated`);
    expect(disagree).toEqual([]);
    expect(total).toBeGreaterThan(15);
  }, 120_000);
});
