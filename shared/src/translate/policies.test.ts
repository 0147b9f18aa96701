import { describe, expect, it } from 'vitest';
import { parseManifests } from '../manifests/parse.js';
import { hashApiKey, translate } from './index.js';

const pool = (name: string, model: string, aliases: string[] = []) => `
apiVersion: switchyard.dev/v1alpha1
kind: LLMBackend
metadata: { name: ${name} }
spec: { provider: vllm, url: "http://${name}:8000/v1", models: [{ name: ${model} }] }
---
apiVersion: switchyard.dev/v1alpha1
kind: LLMPool
metadata: { name: ${name} }
spec: { model: ${model}, aliases: [${aliases.join(', ')}], backendRefs: [{ name: ${name} }] }
---
`;

const policy = (name: string, created: string, spec: string) => `
apiVersion: switchyard.dev/v1alpha1
kind: RoutePolicy
metadata: { name: ${name}, creationTimestamp: "${created}" }
spec:
${spec}
---
`;

const keys = `
apiVersion: v1
kind: Secret
metadata: { name: keys }
stringData: { one: sk-shared-1234, again: sk-shared-1234, other: sk-other-5678 }
---
`;

describe('the pools a RoutePolicy covers', () => {
  it('are its split pools, its fallbacks and the pools whose names its model matches, aliases included', () => {
    const text = [
      pool('chat', 'chat', ['assistant']),
      pool('chat-large', 'chat-large'),
      pool('canary', 'canary'),
      pool('spare', 'spare'),
      pool('other', 'other'),
      policy('by-name', '2026-01-01T00:00:00Z', '  rules: [{ match: { model: { value: assistant } } }]'),
      policy(
        'by-prefix',
        '2026-01-01T00:00:00Z',
        '  rules: [{ match: { model: { type: Prefix, value: chat- } }, fallbacks: [spare] }]',
      ),
      policy(
        'split',
        '2026-01-01T00:00:00Z',
        '  rules: [{ match: { model: { value: v } }, pools: [{ name: canary }] }]',
      ),
      policy('all', '2026-01-01T00:00:00Z', '  rules: [{ match: { headers: [{ name: x-team, value: a }] } }]'),
    ].join('');
    const { config, problems } = translate(parseManifests(text));
    expect(problems).toEqual([]);
    const covered = Object.fromEntries(config.policies.map((p) => [p.id, p.pools]));
    expect(covered).toEqual({
      'default/by-name': ['default/chat'],
      'default/by-prefix': ['default/chat-large', 'default/spare'],
      'default/split': ['default/canary'],
      'default/all': ['default/canary', 'default/chat', 'default/chat-large', 'default/other', 'default/spare'],
    });
  });
});

describe('one API key, one tenant', () => {
  const tenants = (list: string) => `  rules: [{ match: { model: { value: chat } } }]\n  tenants:\n${list}`;

  it('leaves a key two policies list with the older policy and reports the conflict on the newer one', () => {
    const text = [
      keys,
      pool('chat', 'chat'),
      // "a-newer" sorts first by name but was created later: age decides, not the name.
      policy('a-newer', '2026-02-01T00:00:00Z', tenants('    - { name: late, apiKeys: [{ name: keys, key: again }] }')),
      policy(
        'z-older',
        '2026-01-01T00:00:00Z',
        tenants(
          '    - { name: early, apiKeys: [{ name: keys, key: one }] }\n    - { name: twin, apiKeys: [{ name: keys, key: other }, { name: keys, key: one }] }',
        ),
      ),
    ].join('');
    const { config, problems } = translate(parseManifests(text));
    const byId = Object.fromEntries(config.policies.map((p) => [p.id, p.tenants]));
    expect(byId['default/z-older']).toEqual([
      { name: 'early', keyHashes: [hashApiKey('sk-shared-1234')] },
      { name: 'twin', keyHashes: [hashApiKey('sk-other-5678')] },
    ]);
    expect(byId['default/a-newer']).toEqual([{ name: 'late', keyHashes: [] }]);
    expect(problems).toEqual([
      expect.objectContaining({
        kind: 'RoutePolicy',
        name: 'z-older',
        field: 'spec.tenants[1].apiKeys[1]',
        reason: 'ApiKeyConflict',
        condition: 'Accepted',
      }),
      expect.objectContaining({
        kind: 'RoutePolicy',
        name: 'a-newer',
        field: 'spec.tenants[0].apiKeys[0]',
        reason: 'ApiKeyConflict',
        message: expect.stringContaining('RoutePolicy default/z-older tenant "early"'),
      }),
    ]);
    expect(JSON.stringify(problems)).not.toContain('sk-shared');
  });

  it('orders policies without a creation time by namespace and name', () => {
    const text = [
      keys,
      pool('chat', 'chat'),
      policy('b', '', tenants('    - { name: tb, apiKeys: [{ name: keys, key: one }] }')),
      policy('a', '', tenants('    - { name: ta, apiKeys: [{ name: keys, key: again }] }')),
    ].join('');
    const { config, problems } = translate(parseManifests(text));
    expect(config.policies.map((p) => p.tenants[0]?.keyHashes.length)).toEqual([1, 0]);
    expect(problems.map((p) => p.name)).toEqual(['b']);
  });
});
