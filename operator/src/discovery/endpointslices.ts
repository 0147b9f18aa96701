/**
 * Resolves a Service port to replica endpoints from its EndpointSlices (discovery.k8s.io/v1), the way kube-proxy
 * reads them: slices are found by the `kubernetes.io/service-name` label, the slice port is the one named like the
 * Service port, an endpoint is ready unless `conditions.ready` is false, and when no endpoint is ready the ones
 * still serving while terminating are used (graceful shutdown). Duplicate addresses across slices count once.
 */
import { createHash } from 'node:crypto';
import type { ResolvedEndpoint } from '../../../shared/src/index.js';
import type { EndpointSlice, Service } from '../k8s/objects.js';

/** Label linking an EndpointSlice to its Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** Result of resolving one Service port. */
export interface ServiceEndpoints {
  /** Endpoints that take traffic. */
  ready: ResolvedEndpoint[];
  /** Replicas known (ready or not, terminating excluded). */
  total: number;
}

/** Every endpoint of the slices, with readiness: one entry per address, deduplicated by address:port. */
export interface SliceEndpoint extends ResolvedEndpoint {
  host: string;
  port: number;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

const hostPort = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);
const shortHash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 10);

/** Lists the endpoints of slices for the slice port named `portName` ('' for an unnamed port). */
export function sliceEndpoints(slices: EndpointSlice[], portName: string): SliceEndpoint[] {
  const out = new Map<string, SliceEndpoint>();
  for (const slice of slices) {
    if (slice.addressType === 'FQDN') continue;
    const port = (slice.ports ?? []).find((p) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === 'TCP');
    const portNumber = port?.port;
    if (!portNumber) continue;
    for (const ep of slice.endpoints ?? []) {
      const c = ep.conditions ?? {};
      ep.addresses.forEach((host, i) => {
        const address = hostPort(host, portNumber);
        if (out.has(address)) return;
        const base = ep.targetRef?.name ?? ep.hostname ?? `ep-${shortHash(address)}`;
        out.set(address, {
          name: ep.addresses.length > 1 ? `${base}-${i}` : base,
          address,
          host,
          port: portNumber,
          ready: c.ready !== false,
          serving: c.serving ?? c.ready !== false,
          terminating: c.terminating === true,
        });
      });
    }
  }
  return [...out.values()].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}

/**
 * Resolves `port` (Service port number or name) of `service`; undefined when the Service or the port does not
 * exist (a broken reference, ResolvedRefs=False).
 */
export function resolveServicePort(
  service: Service | undefined,
  slices: EndpointSlice[],
  port: number | string,
): ServiceEndpoints | undefined {
  if (!service) return undefined;
  const sp = (service.spec?.ports ?? []).find((p) => (typeof port === 'number' ? p.port === port : p.name === port));
  if (!sp) return undefined;
  const all = sliceEndpoints(slices, sp.name ?? '');
  let ready = all.filter((e) => e.ready && !e.terminating);
  if (ready.length === 0) ready = all.filter((e) => e.serving && e.terminating);
  return {
    ready: ready.map(({ name, address }) => ({ name, address })),
    total: all.filter((e) => !e.terminating).length,
  };
}
