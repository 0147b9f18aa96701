/**
 * A synthetic cluster for push benchmarks: `backends` vLLM Services, each with an EndpointSlice of `endpoints` ready
 * replicas (addresses that do not exist: health checks and metrics are off, the benchmarks measure delivery), one
 * LLMBackend and one LLMPool per Service. The operator's own caches → buildInput → translate path reads it as a
 * CacheView, without an apiserver.
 */
import type { CacheView } from '../../operator/src/controllers/inputs.js';
import type { EndpointSlice, KubeObject, Service } from '../../operator/src/k8s/objects.js';

export interface SyntheticCluster {
  cache: CacheView;
  /** The EndpointSlices, one per backend, to change in place (a replica turning not-ready). */
  slices: EndpointSlice[];
}

export function syntheticCluster(backendCount: number, endpointCount: number, ns = 'bench'): SyntheticCluster {
  const services: Service[] = [];
  const slices: EndpointSlice[] = [];
  const backends: KubeObject[] = [];
  const pools: KubeObject[] = [];
  for (let b = 0; b < backendCount; b++) {
    const name = `model-${b}`;
    services.push({ metadata: { name, namespace: ns }, spec: { ports: [{ name: 'http', port: 8000 }] } });
    slices.push({
      metadata: { name: `${name}-1`, namespace: ns, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8000, protocol: 'TCP' }],
      endpoints: Array.from({ length: endpointCount }, (_, e) => ({
        addresses: [`10.${(b >> 8) & 255}.${b & 255}.${e + 1}`],
        conditions: { ready: true },
        targetRef: { kind: 'Pod', name: `${name}-${e}` },
      })),
    });
    backends.push({
      apiVersion: 'switchyard.dev/v1alpha1',
      kind: 'LLMBackend',
      metadata: { name, namespace: ns, generation: 1 },
      spec: {
        provider: 'vllm',
        serviceRef: { name, port: 'http' },
        models: [{ name, upstreamName: `org/${name}` }],
        healthCheck: { enabled: false },
        metrics: { enabled: false },
      },
    } as KubeObject);
    pools.push({
      apiVersion: 'switchyard.dev/v1alpha1',
      kind: 'LLMPool',
      metadata: { name, namespace: ns, generation: 1 },
      spec: { model: name, backendRefs: [{ name }] },
    } as KubeObject);
  }
  const cache: CacheView = {
    backends: () => backends,
    pools: () => pools,
    policies: () => [],
    services: () => services,
    slices: () => slices,
  };
  return { cache, slices };
}
