/** Shared fixtures of the governance e2e tests: API keys, manifests with Secrets and RoutePolicies, a request helper. */
import { poolManifests } from '../support/manifests.js';

/** Test API keys: distinctive strings so the secrecy test can grep for them anywhere. */
export const KEYS = {
  teamA: 'sk-swy-team-a-4f1c8e2d9b7a6c5e',
  teamA2: 'sk-swy-team-a-second-0a9b8c7d6e',
  teamB: 'sk-swy-team-b-93e1d2c4b5a69788',
} as const;

/**
 * A vLLM backend over `urls` serving `model` (upstream `sim-model`) with pricing, and a pool of the same name;
 * `poolSpec`: more fields of the pool's spec (YAML, indented by two spaces).
 */
export function backendAndPool(name: string, model: string, urls: string[], poolSpec = ''): string {
  const manifests = poolManifests({
    name,
    poolName: name,
    model,
    upstreamName: 'sim-model',
    urls: urls.map((u) => `${u}/v1`),
    backendSpec: '  pricing: { inputPerMillion: 1, outputPerMillion: 2, currency: USD }',
    poolSpec,
  });
  return `${manifests}---\n`;
}

/** The Secret holding every test key. */
export const KEYS_SECRET = `
apiVersion: v1
kind: Secret
metadata: { name: api-keys }
stringData:
  team-a: "${KEYS.teamA}"
  team-a-2: "${KEYS.teamA2}"
  team-b: "${KEYS.teamB}"
---
`;

/** A RoutePolicy named `name` with `spec` (YAML, indented by two spaces under `spec:`). */
export function routePolicy(name: string, spec: string): string {
  return `
apiVersion: switchyard.dev/v1alpha1
kind: RoutePolicy
metadata: { name: ${name} }
spec:
${spec}
---
`;
}

export interface ChatResult {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** POSTs a chat completion to `baseUrl` with optional API key; returns status, headers and JSON body. */
export async function chat(
  baseUrl: string,
  body: Record<string, unknown>,
  opts: { key?: string; header?: 'authorization' | 'x-api-key' } = {},
): Promise<ChatResult> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.key !== undefined) {
    if (opts.header === 'x-api-key') headers['x-api-key'] = opts.key;
    else headers.authorization = `Bearer ${opts.key}`;
  }
  const res = await fetch(`${baseUrl}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify(body) });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { raw: text };
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** A short chat request for `model`. */
export const ask = (model: string, extra: Record<string, unknown> = {}) => ({
  model,
  messages: [{ role: 'user', content: 'Say something short.' }],
  max_tokens: 5,
  ...extra,
});
