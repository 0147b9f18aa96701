/** Manifest fixtures shared by unit and e2e tests (no server code, so unit tests can import it cheaply). */

/**
 * Manifests for one vLLM-style backend over `urls` and a pool serving `model` (common test fixture), in `namespace`
 * when given.
 */
export function poolManifests(opts: {
  model: string;
  urls: string[];
  name?: string;
  /** The pool's name; `<name>-pool` when not given. */
  poolName?: string;
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
metadata: { name: ${opts.poolName ?? `${name}-pool`}${ns} }
spec:
  model: "${opts.model}"
  backendRefs: [{ name: ${name} }]
${opts.poolSpec ?? ''}
`;
}

/** A Secret `keys` holding `keys` (tenant name → API key), for tenants' `apiKeys: [{ name: keys, key: <tenant> }]`. */
export function keysSecret(keys: Record<string, string>): string {
  return `apiVersion: v1
kind: Secret
metadata: { name: keys }
stringData: { ${Object.entries(keys)
    .map(([t, k]) => `${t}: "${k}"`)
    .join(', ')} }
`;
}

/**
 * RoutePolicy tenants (lines indented for `spec.tenants`) of the priority mix of docs/priority.md: ops (critical),
 * web (standard, weight 3), bulk (standard) and batch (sheddable), each with the key named after it in `keysSecret`.
 */
export const priorityMixTenants = `    - { name: ops, apiKeys: [{ name: keys, key: ops }], priority: critical }
    - { name: web, apiKeys: [{ name: keys, key: web }], weight: 3 }
    - { name: bulk, apiKeys: [{ name: keys, key: bulk }] }
    - { name: batch, apiKeys: [{ name: keys, key: batch }], priority: sheddable }`;
