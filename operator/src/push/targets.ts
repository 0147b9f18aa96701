/**
 * Proxy pods to push to, from the EndpointSlices of the proxy Service. Not-ready pods are included on purpose:
 * a proxy is not ready until it has a snapshot, and it gets one by push. Terminating pods are left out.
 */
import { type EndpointSlice, sliceEndpoints } from '../controllers/endpoints.js';

/** One proxy admin endpoint. */
export interface ProxyTarget {
  /** Pod name (or address when the slice has no targetRef); used in logs and metrics-free status. */
  name: string;
  /** Base URL of the admin API, e.g. http://10.0.0.7:9090. */
  url: string;
}

/** Targets from slices: every non-terminating address, on `adminPort`. */
export function proxyTargets(slices: EndpointSlice[], adminPort: number): ProxyTarget[] {
  const hosts = new Map<string, string>();
  for (const slice of slices) {
    const names = new Set((slice.ports ?? []).map((p) => p.name ?? ''));
    // Any port of the slice will do to enumerate addresses; the admin port is fixed by flag.
    const first = [...names][0] ?? '';
    const withPort: EndpointSlice = { ...slice, ports: [{ name: first, port: adminPort, protocol: 'TCP' }] };
    for (const e of sliceEndpoints([withPort], first)) if (!e.terminating) hosts.set(e.host, e.name);
  }
  return [...hosts].map(([host, name]) => ({
    name,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${adminPort}`,
  }));
}
