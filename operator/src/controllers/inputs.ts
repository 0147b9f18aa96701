/**
 * Builds translation input from the informer caches: custom resources parsed through the zod schemas (objects
 * that fail are reported, not translated), the Secrets and Services they reference (Secrets are read by name by
 * the caller, see secrets.ts), and a Service resolver backed by EndpointSlices that also records ready/total
 * replicas per backend for status.
 */
import {
  CUSTOM_RESOURCES,
  type CustomResourceKind,
  formatZodIssues,
  type LLMBackend,
  type LLMPool,
  namespaceOf,
  type RoutePolicy,
  type TranslateInput,
} from '../../../shared/src/index.js';
import { resolveServicePort, SERVICE_NAME_LABEL } from '../discovery/endpointslices.js';
import type { CustomObject, EndpointSlice, Service } from '../k8s/objects.js';

/** Read access to the caches the operator keeps. */
export interface CacheView {
  backends: () => CustomObject[];
  pools: () => CustomObject[];
  policies: () => CustomObject[];
  services: () => Service[];
  slices: () => EndpointSlice[];
}

/** A custom resource the zod schema rejected. */
export interface InvalidResource {
  kind: CustomResourceKind;
  namespace: string;
  name: string;
  message: string;
}

/** Translation input plus what status needs to know beyond translate()'s problems. */
export interface SnapshotInput {
  input: TranslateInput;
  invalid: InvalidResource[];
  /** Ready/total replicas per backend id (`namespace/name`), for serviceRef backends. */
  replicas: Map<string, { ready: number; total: number }>;
  /** `namespace/name` of every Secret the valid resources reference (input.secrets is left to the caller). */
  secretRefs: Set<string>;
  /** `namespace/name` of every Service the valid backends reference. */
  serviceRefs: Set<string>;
}

/** Parse results per cached object: informers replace an object on every change, so identity is a version. */
const parsedCache = new WeakMap<CustomObject, { data: unknown } | { message: string }>();

function parseAll<K extends CustomResourceKind>(kind: K, objects: CustomObject[], invalid: InvalidResource[]) {
  const schema = CUSTOM_RESOURCES[kind].schema;
  const out: unknown[] = [];
  for (const o of objects) {
    if (o.metadata.deletionTimestamp) continue;
    let result = parsedCache.get(o);
    if (!result) {
      const parsed = schema.safeParse(o);
      result = parsed.success ? { data: parsed.data } : { message: formatZodIssues(parsed.error).join('; ') };
      parsedCache.set(o, result);
    }
    if ('data' in result) out.push(result.data);
    else
      invalid.push({
        kind,
        namespace: o.metadata.namespace ?? 'default',
        name: o.metadata.name,
        message: result.message,
      });
  }
  return out;
}

/** Snapshot of the caches as translate() input. Cheap enough to run on every change. */
export function buildInput(cache: CacheView): SnapshotInput {
  const invalid: InvalidResource[] = [];
  const backends = parseAll('LLMBackend', cache.backends(), invalid) as LLMBackend[];
  const pools = parseAll('LLMPool', cache.pools(), invalid) as LLMPool[];
  const policies = parseAll('RoutePolicy', cache.policies(), invalid) as RoutePolicy[];
  const secretRefs = new Set<string>();
  for (const b of backends) {
    if (b.spec.credentialsRef) secretRefs.add(`${namespaceOf(b)}/${b.spec.credentialsRef.name}`);
  }
  for (const p of policies) {
    for (const t of p.spec.tenants ?? []) for (const k of t.apiKeys) secretRefs.add(`${namespaceOf(p)}/${k.name}`);
  }
  const serviceRefs = new Set(
    backends.flatMap((b) => (b.spec.serviceRef ? [`${namespaceOf(b)}/${b.spec.serviceRef.name}`] : [])),
  );

  const services = new Map(cache.services().map((s) => [`${s.metadata.namespace}/${s.metadata.name}`, s]));
  const slicesByService = new Map<string, EndpointSlice[]>();
  for (const slice of cache.slices()) {
    const svc = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    if (!svc) continue;
    const key = `${slice.metadata.namespace}/${svc}`;
    slicesByService.set(key, [...(slicesByService.get(key) ?? []), slice]);
  }

  const replicas = new Map<string, { ready: number; total: number }>();
  const input: TranslateInput = {
    refusedBackends: new Set(invalid.filter((i) => i.kind === 'LLMBackend').map((i) => `${i.namespace}/${i.name}`)),
    backends,
    pools,
    policies,
    secrets: [],
    resolveService: (namespace, backend) => {
      const ref = backend.spec.serviceRef;
      if (!ref) return undefined;
      const key = `${namespace}/${ref.name}`;
      const resolved = resolveServicePort(services.get(key), slicesByService.get(key) ?? [], ref.port);
      if (resolved)
        replicas.set(`${namespace}/${backend.metadata.name}`, { ready: resolved.ready.length, total: resolved.total });
      return resolved?.ready;
    },
  };
  return { input, invalid, replicas, secretRefs, serviceRefs };
}
