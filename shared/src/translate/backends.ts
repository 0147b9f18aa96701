/** LLMBackend → BackendConfig: endpoints from static URLs or the operator's Service resolution, credentials. */
import { type LLMBackend, parseDuration, type Secret, secretValue } from '../api/v1alpha1/index.js';
import type { BackendConfig, EndpointConfig } from '../proxyconfig/index.js';
import type { Problem } from './problems.js';
import { endpointBaseUrl, PROVIDER_DEFAULTS } from './providers.js';

/** One ready replica behind a Service, as the operator resolved it from EndpointSlices. */
export interface ResolvedEndpoint {
  /** Stable name of the replica (pod name, or address when the slice has no targetRef). */
  name: string;
  /** host:port, IPv6 hosts in brackets. */
  address: string;
}

/** Resolves a backend's serviceRef; `undefined` means the Service (or the named port) does not exist. */
export type ServiceResolver = (namespace: string, backend: LLMBackend) => ResolvedEndpoint[] | undefined;

/** Namespace of a resource, `default` when unset (standalone manifests). */
export const namespaceOf = (r: { metadata: { namespace?: string | undefined } }) => r.metadata.namespace ?? 'default';
/** `namespace/name` id of a resource. */
export const idOf = (r: { metadata: { name: string; namespace?: string | undefined } }) =>
  `${namespaceOf(r)}/${r.metadata.name}`;

/** A credential sent as a header value: visible ASCII and inner spaces (surrounding whitespace is trimmed). */
const CREDENTIAL = /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/;

/**
 * Id of one endpoint (replica) of a backend, as clients see it in `x-switchyard-endpoint` and metrics see it in
 * labels: `namespace/backend/replica`, with the namespace left out for `default` (standalone manifests), so ids
 * are unique across namespaces and unambiguous (names never contain `/`).
 */
export function endpointId(b: { metadata: { name: string; namespace?: string | undefined } }, replica: string): string {
  const ns = namespaceOf(b);
  return ns === 'default' ? `${b.metadata.name}/${replica}` : `${ns}/${b.metadata.name}/${replica}`;
}

/** Looks a secret key up among the given Secrets. */
export function findSecretValue(secrets: Secret[], namespace: string, name: string, key: string): string | undefined {
  const s = secrets.find((x) => x.metadata.name === name && namespaceOf(x) === namespace);
  return s ? secretValue(s, key) : undefined;
}

/** Translates one backend; returns undefined (with problems) when it cannot be served at all. */
export function translateBackend(
  b: LLMBackend,
  secrets: Secret[],
  resolveService: ServiceResolver | undefined,
  problems: Problem[],
): BackendConfig | undefined {
  const ns = namespaceOf(b);
  const id = idOf(b);
  const spec = b.spec;
  const problem = (field: string, reason: string, message: string, condition: Problem['condition'] = 'ResolvedRefs') =>
    problems.push({ kind: 'LLMBackend', namespace: ns, name: b.metadata.name, field, reason, message, condition });

  // A URL the CRD pattern let through but WHATWG URL parsing refuses (a malformed host or port) is this
  // backend's problem, named by field.
  const endpoint = (id: string, raw: string, weight: number, field: string): EndpointConfig | undefined => {
    const url = endpointBaseUrl(spec.provider, raw);
    if (url === undefined) {
      problem(field, 'InvalidURL', `"${raw.slice(0, 200)}" is not a valid http or https URL`, 'Accepted');
      return undefined;
    }
    return { id, url, weight };
  };
  let endpoints: (EndpointConfig | undefined)[] = [];
  if (spec.url) {
    endpoints = [endpoint(endpointId(b, '0'), spec.url, spec.weight, 'spec.url')];
  } else if (spec.endpoints) {
    endpoints = spec.endpoints.map((e, i) =>
      endpoint(endpointId(b, String(i)), e.url, e.weight ?? spec.weight, `spec.endpoints[${i}].url`),
    );
  } else if (spec.serviceRef) {
    const resolved = resolveService?.(ns, b);
    if (resolved === undefined) {
      problem(
        'spec.serviceRef',
        'ServiceNotFound',
        resolveService
          ? `Service ${ns}/${spec.serviceRef.name} with port ${spec.serviceRef.port} was not found`
          : 'serviceRef needs the operator (in standalone mode use url or endpoints)',
      );
      return undefined;
    }
    endpoints = resolved.map((r) =>
      endpoint(
        endpointId(b, r.name),
        `${spec.serviceRef?.scheme ?? 'http'}://${r.address}`,
        spec.weight,
        'spec.serviceRef',
      ),
    );
  }
  if (endpoints.some((e) => e === undefined)) return undefined;

  let apiKey: string | undefined;
  if (spec.credentialsRef) {
    const ref = spec.credentialsRef;
    apiKey = findSecretValue(secrets, ns, ref.name, ref.key)?.trim();
    if (apiKey === undefined) {
      problem('spec.credentialsRef', 'SecretNotFound', `key "${ref.key}" of Secret ${ns}/${ref.name} was not found`);
      return undefined;
    }
    if (!CREDENTIAL.test(apiKey)) {
      problem(
        'spec.credentialsRef',
        'InvalidSecretValue',
        `key "${ref.key}" of Secret ${ns}/${ref.name} is empty or holds characters an HTTP header cannot carry`,
      );
      return undefined;
    }
  }

  const hc = spec.healthCheck;
  const t = spec.timeouts;
  const defaults = PROVIDER_DEFAULTS[spec.provider];
  const healthPath = hc?.path ?? defaults.healthPath ?? undefined;
  return {
    id,
    provider: spec.provider,
    endpoints: endpoints.filter((e) => e !== undefined),
    models: Object.fromEntries(spec.models.map((m) => [m.name, m.upstreamName ?? m.name])),
    ...(apiKey !== undefined ? { apiKey } : {}),
    headers: spec.headers ?? {},
    ...(spec.maxConcurrency !== undefined ? { maxConcurrency: spec.maxConcurrency } : {}),
    ...(spec.maxConcurrency !== undefined && spec.maxConcurrencyMode === 'Exact'
      ? { maxConcurrencyMode: 'exact' as const }
      : {}),
    healthCheck: {
      enabled: hc?.enabled ?? true,
      ...(healthPath !== undefined ? { path: healthPath } : {}),
      // Vendor APIs (and OpenAI-compatible vendors, recognised by their credentials) are checked slowly: each
      // check is an authenticated, possibly billed or rate-limited call.
      intervalMs: parseDuration(
        hc?.interval ??
          (defaults.vendor || (spec.provider === 'openai-compatible' && spec.credentialsRef) ? '60s' : '5s'),
      ),
      timeoutMs: parseDuration(hc?.timeout ?? '2s'),
      healthyThreshold: hc?.healthyThreshold ?? 1,
      unhealthyThreshold: hc?.unhealthyThreshold ?? 2,
    },
    timeouts: {
      connectMs: parseDuration(t?.connect ?? '5s'),
      firstByteMs: parseDuration(t?.firstByte ?? '120s'),
      idleMs: parseDuration(t?.idle ?? '60s'),
      totalMs: parseDuration(t?.total ?? '600s'),
    },
    ...(spec.pricing ? { pricing: { ...spec.pricing, currency: spec.pricing.currency ?? 'USD' } } : {}),
    ...(spec.metrics || spec.provider === 'vllm' || spec.provider === 'llamacpp'
      ? {
          metrics: {
            enabled: spec.metrics?.enabled ?? true,
            path: spec.metrics?.path ?? '/metrics',
            intervalMs: parseDuration(spec.metrics?.interval ?? '250ms'),
            staleAfterMs: parseDuration(spec.metrics?.staleAfter ?? '2s'),
          },
        }
      : {}),
  };
}
