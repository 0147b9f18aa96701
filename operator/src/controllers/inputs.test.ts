import { describe, expect, it } from 'vitest';
import { translate } from '../../../shared/src/index.js';
import type { CustomObject } from '../k8s/objects.js';
import { buildInput, type CacheView } from './inputs.js';

const backend = (name: string, spec: Record<string, unknown>): CustomObject => ({
  apiVersion: 'switchyard.dev/v1alpha1',
  kind: 'LLMBackend',
  metadata: { name, namespace: 'ns' },
  spec,
});

function view(over: Partial<CacheView>): CacheView {
  return {
    backends: () => [],
    pools: () => [],
    policies: () => [],
    services: () => [],
    slices: () => [],
    ...over,
  };
}

describe('buildInput', () => {
  it('resolves serviceRef through EndpointSlices, lists the Secrets and Services referenced, records replicas', () => {
    const cache = view({
      backends: () => [
        backend('vllm', {
          provider: 'vllm',
          serviceRef: { name: 'vllm', port: 8000 },
          credentialsRef: { name: 'key', key: 'token' },
          models: [{ name: 'm' }],
        }),
      ],
      services: () => [{ metadata: { name: 'vllm', namespace: 'ns' }, spec: { ports: [{ port: 8000 }] } }],
      slices: () => [
        {
          metadata: { name: 'vllm-x', namespace: 'ns', labels: { 'kubernetes.io/service-name': 'vllm' } },
          addressType: 'IPv4',
          ports: [{ port: 8001 }],
          endpoints: [{ addresses: ['10.0.0.1'] }, { addresses: ['10.0.0.2'], conditions: { ready: false } }],
        },
      ],
    });
    const built = buildInput(cache);
    expect(built.secretRefs).toEqual(new Set(['ns/key']));
    expect(built.serviceRefs).toEqual(new Set(['ns/vllm']));
    built.input.secrets = [
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'key', namespace: 'ns' },
        data: { token: Buffer.from('s3cret').toString('base64') },
      },
    ];
    const { config, problems } = translate(built.input);
    expect(problems).toEqual([]);
    expect(config.backends[0]?.endpoints.map((e) => e.url)).toEqual(['http://10.0.0.1:8001/v1']);
    expect(config.backends[0]?.apiKey).toBe('s3cret');
    expect(built.replicas.get('ns/vllm')).toEqual({ ready: 1, total: 2 });
  });

  it('reports objects the zod schema rejects, naming the field, and leaves them out', () => {
    const built = buildInput(
      view({ backends: () => [backend('bad', { provider: 'vllm', url: 'not a url', models: [{ name: 'm' }] })] }),
    );
    expect(built.input.backends).toEqual([]);
    expect(built.invalid).toEqual([expect.objectContaining({ kind: 'LLMBackend', name: 'bad' })]);
    expect(built.invalid[0]?.message).toContain('spec.url');
    // a header pattern RE2 cannot compile (stored before admission checked it)
    const regex = buildInput(
      view({
        policies: () => [
          {
            apiVersion: 'switchyard.dev/v1alpha1',
            kind: 'RoutePolicy',
            metadata: { name: 'r', namespace: 'ns' },
            spec: { rules: [{ match: { headers: [{ name: 'x-a', type: 'RegularExpression', value: '(?=a)' }] } }] },
          },
        ],
      }),
    );
    expect(regex.input.policies).toEqual([]);
    expect(regex.invalid[0]?.message).toContain(
      'spec.rules[0].match.headers[0].value: must be an RE2 regular expression',
    );
    // a pool on it is told the backend is not accepted, not that it does not exist
    const pool: CustomObject = {
      apiVersion: 'switchyard.dev/v1alpha1',
      kind: 'LLMPool',
      metadata: { name: 'p', namespace: 'ns' },
      spec: { model: 'm', backendRefs: [{ name: 'bad' }] },
    };
    const withPool = buildInput(
      view({
        backends: () => [backend('bad', { provider: 'vllm', url: 'not a url', models: [{ name: 'm' }] })],
        pools: () => [pool],
      }),
    );
    expect(translate(withPool.input).problems).toEqual([
      expect.objectContaining({ name: 'p', reason: 'BackendNotResolved', field: 'spec.backendRefs[0].name' }),
    ]);
  });
});
