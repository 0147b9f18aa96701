import { describe, expect, it } from 'vitest';
import { ManifestError, parseManifests } from '../manifests/parse.js';
import { proxyConfig } from '../proxyconfig/index.js';
import { hashApiKey, translate } from './index.js';

const base = `
apiVersion: switchyard.dev/v1alpha1
kind: LLMBackend
metadata: { name: vllm-a, namespace: team }
spec:
  provider: vllm
  endpoints: [{ url: "http://127.0.0.1:8001" }, { url: "http://127.0.0.1:8002/v1", weight: 3 }]
  models: [{ name: llama, upstreamName: meta-llama/Llama-3.1-8B-Instruct }]
  timeouts: { firstByte: 1m30s }
---
apiVersion: switchyard.dev/v1alpha1
kind: LLMBackend
metadata: { name: openai, namespace: team }
spec:
  provider: openai
  url: https://api.openai.com/v1
  credentialsRef: { name: vendor-keys, key: openai }
  models: [{ name: gpt-4o-mini }]
---
apiVersion: v1
kind: Secret
metadata: { name: vendor-keys, namespace: team }
stringData: { openai: sk-test-123 }
---
apiVersion: switchyard.dev/v1alpha1
kind: LLMPool
metadata: { name: llama, namespace: team }
spec:
  model: llama
  aliases: [default]
  backendRefs: [{ name: vllm-a, weight: 2 }, { name: openai, priority: 1, model: gpt-4o-mini }]
`;

describe('translate', () => {
  it('turns manifests into a valid snapshot with endpoints, upstream names and defaults', () => {
    const { config, problems } = translate(parseManifests(base));
    expect(problems).toEqual([]);
    expect(proxyConfig.safeParse(config).success).toBe(true);
    const vllm = config.backends.find((b) => b.id === 'team/vllm-a');
    expect(vllm?.endpoints).toEqual([
      { id: 'team/vllm-a/0', url: 'http://127.0.0.1:8001/v1', weight: 1 },
      { id: 'team/vllm-a/1', url: 'http://127.0.0.1:8002/v1', weight: 3 },
    ]);
    expect(vllm?.timeouts.firstByteMs).toBe(90_000);
    expect(vllm?.healthCheck.path).toBe('/health');
    const pool = config.pools[0];
    expect(pool?.targets).toEqual([
      { backend: 'team/vllm-a', weight: 2, priority: 0, upstreamModel: 'meta-llama/Llama-3.1-8B-Instruct' },
      { backend: 'team/openai', weight: 1, priority: 1, upstreamModel: 'gpt-4o-mini' },
    ]);
    expect(config.backends.find((b) => b.id === 'team/openai')?.apiKey).toBe('sk-test-123');
  });

  it('versions by content: same input same version, any change a new one', () => {
    const a = translate({ ...parseManifests(base), now: new Date(0) }).config;
    const b = translate({ ...parseManifests(base), now: new Date(1000) }).config;
    expect(a.version).toBe(b.version);
    const c = translate(parseManifests(base.replace('weight: 2', 'weight: 5'))).config;
    expect(c.version).not.toBe(a.version);
    // The same resources in another order: the same snapshot, the same version.
    const reordered = base.split('\n---\n').reverse().join('\n---\n');
    expect(translate({ ...parseManifests(reordered), now: new Date(0) }).config.version).toBe(a.version);
  });

  it('reports a missing backend on the pool and keeps serving the rest', () => {
    const { config, problems } = translate(
      parseManifests(base.replace('name: openai, priority', 'name: nope, priority')),
    );
    expect(problems).toEqual([
      expect.objectContaining({
        kind: 'LLMPool',
        name: 'llama',
        field: 'spec.backendRefs[1].name',
        reason: 'BackendNotFound',
      }),
    ]);
    expect(config.pools[0]?.targets.map((t) => t.backend)).toEqual(['team/vllm-a']);
  });

  it('reports a missing secret without leaking any secret value', () => {
    const { config, problems } = translate(parseManifests(base.replace('key: openai }', 'key: absent }')));
    expect(problems[0]).toMatchObject({ kind: 'LLMBackend', name: 'openai', reason: 'SecretNotFound' });
    expect(JSON.stringify(problems)).not.toContain('sk-test-123');
    expect(config.backends.map((b) => b.id)).toEqual(['team/vllm-a']);
  });

  it('rejects a model name served by two pools on the later pool', () => {
    const dup = `${base}---
apiVersion: switchyard.dev/v1alpha1
kind: LLMPool
metadata: { name: zz, namespace: team }
spec: { model: default, backendRefs: [{ name: vllm-a }] }
`;
    const { config, problems } = translate(parseManifests(dup));
    expect(problems).toEqual([expect.objectContaining({ name: 'zz', reason: 'ModelConflict', field: 'spec.model' })]);
    expect(config.pools.map((p) => p.id)).toEqual(['team/llama']);
  });

  it('gives a model name to the oldest pool, whatever the names, and the conflict to the newcomer', () => {
    const input = parseManifests(`${base}---
apiVersion: switchyard.dev/v1alpha1
kind: LLMPool
metadata: { name: aa-new, namespace: a-team }
spec: { model: llama, backendRefs: [{ name: vllm-a }] }
`);
    const stamp = (name: string, t: string) => {
      const p = input.pools.find((x) => x.metadata.name === name);
      if (p) p.metadata.creationTimestamp = t;
    };
    stamp('llama', '2026-01-01T00:00:00Z');
    stamp('aa-new', '2026-06-01T00:00:00Z');
    const { config, problems } = translate(input);
    expect(config.pools.map((p) => p.id)).toEqual(['team/llama']);
    expect(problems).toContainEqual(
      expect.objectContaining({ namespace: 'a-team', name: 'aa-new', reason: 'ModelConflict', field: 'spec.model' }),
    );
    // the same two pools the other way round in time: the one created first wins again
    stamp('llama', '2027-01-01T00:00:00Z');
    const swapped = translate(input);
    expect(swapped.config.pools.map((p) => p.id)).toEqual(['a-team/aa-new']);
    expect(swapped.problems).toContainEqual(expect.objectContaining({ name: 'llama', reason: 'ModelConflict' }));
  });

  it('keeps an untranslatable backend to itself: a condition naming the field, everything else served', () => {
    const input = parseManifests(base);
    const broken = structuredClone(input.backends.find((b) => b.metadata.name === 'openai'));
    if (!broken) throw new Error('fixture');
    // what the CRD of an older version let through, and the operator's parse would now refuse
    Object.assign(broken.metadata, { name: 'files' });
    Object.assign(broken.spec, { url: 'file:///etc/passwd', credentialsRef: undefined });
    const badPort = structuredClone(broken);
    Object.assign(badPort.metadata, { name: 'bad-port' });
    Object.assign(badPort.spec, { url: 'http://example.com:99999/v1' });
    const { config, problems } = translate({ ...input, backends: [...input.backends, broken, badPort] });
    expect(config.backends.map((b) => b.id).sort()).toEqual(['team/openai', 'team/vllm-a']);
    expect(problems).toEqual([
      expect.objectContaining({ name: 'bad-port', field: 'spec.url', reason: 'InvalidURL', condition: 'Accepted' }),
      expect.objectContaining({ name: 'files', field: 'spec.url', reason: 'InvalidURL', condition: 'Accepted' }),
    ]);
    expect(config.pools[0]?.targets).toHaveLength(2);
  });

  it('trims a credential and refuses one an HTTP header cannot carry, without showing it', () => {
    const trailing = translate(parseManifests(base.replace('sk-test-123', '"sk-test-123\\n"')));
    expect(trailing.problems).toEqual([]);
    expect(trailing.config.backends.find((b) => b.id === 'team/openai')?.apiKey).toBe('sk-test-123');
    const split = translate(parseManifests(base.replace('sk-test-123', '"sk-test\\r\\nx-evil: 1"')));
    expect(split.problems).toContainEqual(
      expect.objectContaining({ name: 'openai', field: 'spec.credentialsRef', reason: 'InvalidSecretValue' }),
    );
    expect(JSON.stringify(split.problems)).not.toContain('sk-test');
    expect(split.config.backends.map((b) => b.id)).toEqual(['team/vllm-a']);
  });

  it('gives endpoints ids unique across namespaces (the namespace left out only for default)', () => {
    const twin = (ns: string) => `---
apiVersion: switchyard.dev/v1alpha1
kind: LLMBackend
metadata: { name: same, namespace: ${ns} }
spec: { provider: vllm, endpoints: [{ url: "http://127.0.0.1:9000" }], models: [{ name: m }] }
`;
    const { config } = translate(parseManifests(twin('one') + twin('two') + twin('default')));
    const ids = config.backends.flatMap((b) => b.endpoints.map((e) => e.id)).sort();
    expect(ids).toEqual(['one/same/0', 'same/0', 'two/same/0']);
  });

  it('hashes tenant API keys and never carries them in plain text', () => {
    const text = `${base}---
apiVersion: v1
kind: Secret
metadata: { name: keys, namespace: team }
data: { a: ${Buffer.from('sk-tenant-a').toString('base64')} }
---
apiVersion: switchyard.dev/v1alpha1
kind: RoutePolicy
metadata: { name: main, namespace: team }
spec:
  rules: [{ match: { model: { type: Prefix, value: "ll" } }, pools: [{ name: llama }], fallbacks: [missing] }]
  tenants: [{ name: a, apiKeys: [{ name: keys, key: a }] }]
`;
    const { config, problems } = translate(parseManifests(text));
    expect(config.policies[0]?.tenants[0]?.keyHashes).toEqual([hashApiKey('sk-tenant-a')]);
    expect(config.policies[0]?.authRequired).toBe(true);
    expect(JSON.stringify(config)).not.toContain('sk-tenant-a');
    expect(problems).toEqual([
      expect.objectContaining({ field: 'spec.rules[0].fallbacks[0]', reason: 'PoolNotFound' }),
    ]);
    expect(config.routes[0]).toMatchObject({ splits: [{ pool: 'team/llama', weight: 1 }], fallbacks: [] });
  });
});

describe('health-check interval defaults', () => {
  const backend = (name: string, provider: string, extra: string) => `
apiVersion: switchyard.dev/v1alpha1
kind: LLMBackend
metadata: { name: ${name} }
spec:
  provider: ${provider}
  url: https://example.com/v1
  models: [{ name: ${name} }]
${extra}
---`;
  it('checks vendor APIs every 60s (also with a partial healthCheck), local servers every 5s', () => {
    const secret = 'apiVersion: v1\nkind: Secret\nmetadata: { name: k }\nstringData: { key: sk-x }\n';
    const creds = '  credentialsRef: { name: k, key: key }';
    const { config, problems } = translate(
      parseManifests(
        [
          backend('openai', 'openai', `${creds}\n  healthCheck: { timeout: 3s }`),
          backend('groq', 'openai-compatible', creds),
          backend('llamacpp-server', 'openai-compatible', ''),
          backend('vllm-with-key', 'vllm', creds),
          backend('explicit', 'anthropic', `${creds}\n  healthCheck: { interval: 10s }`),
          secret,
        ].join('\n'),
      ),
    );
    expect(problems).toEqual([]);
    const interval = Object.fromEntries(config.backends.map((b) => [b.id.split('/')[1], b.healthCheck.intervalMs]));
    expect(interval).toEqual({
      openai: 60_000,
      groq: 60_000,
      'llamacpp-server': 5000,
      'vllm-with-key': 5000,
      explicit: 10_000,
    });
  });
});

describe('parseManifests', () => {
  it('names resource and field of every invalid manifest', () => {
    const bad = `
apiVersion: switchyard.dev/v1alpha1
kind: LLMPool
metadata: { name: broken }
spec: { model: x, backendRefs: [{ name: a, weight: -1 }] }
---
apiVersion: switchyard.dev/v1alpha1
kind: LLMBackend
metadata: { name: nourl }
spec: { provider: vllm }
`;
    try {
      parseManifests(bad, 'test.yaml');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ManifestError);
      const lines = (e as ManifestError).problems;
      expect(lines.some((l) => l.startsWith('LLMPool default/broken (test.yaml): spec.backendRefs[0].weight'))).toBe(
        true,
      );
      expect(lines.some((l) => l.startsWith('LLMBackend default/nourl (test.yaml): spec.models'))).toBe(true);
    }
  });

  it('reports YAML syntax errors', () => {
    expect(() => parseManifests('kind: [unclosed', 'x.yaml')).toThrow(/x.yaml: YAML/);
  });

  it('reads the quickstart sample', async () => {
    const { readFile } = await import('node:fs/promises');
    const text = await readFile(new URL('../../../crds/samples/quickstart.yaml', import.meta.url), 'utf8');
    const { config, problems } = translate(parseManifests(text));
    expect(problems).toEqual([]);
    expect(config.pools.map((p) => p.model).sort()).toEqual(['llama-3.1-8b', 'text-embedding-small']);
  });
});
