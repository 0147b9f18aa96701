/** Manifest fixtures shared by unit and e2e tests (no server code, so unit tests can import it cheaply). */

/**
 * Manifests for one vLLM-style backend over `urls` and a pool serving `model` (common test fixture), in `namespace`
 * when given.
 */
export function poolManifests(opts: {
  model: string;
  urls: string[];
  name?: string;
  namespace?: string;
  provider?: string;
  upstreamName?: string;
  poolSpec?: string;
  backendSpec?: string;
}): string {
  const name = opts.name ?? 'backend';
  const ns = opts.namespace ? `, namespace: ${opts.namespace}` : '';
  return `
apiVersion: switchyard.dev/v1alpha1
kind: LLMBackend
metadata: { name: ${name}${ns} }
spec:
  provider: ${opts.provider ?? 'vllm'}
  endpoints: [${opts.urls.map((u) => `{ url: "${u}" }`).join(', ')}]
  models: [{ name: "${opts.model}"${opts.upstreamName ? `, upstreamName: "${opts.upstreamName}"` : ''} }]
${opts.backendSpec ?? ''}
---
apiVersion: switchyard.dev/v1alpha1
kind: LLMPool
metadata: { name: ${name}-pool${ns} }
spec:
  model: "${opts.model}"
  backendRefs: [{ name: ${name} }]
${opts.poolSpec ?? ''}
`;
}
