/**
 * Proxy pods to push to, from the EndpointSlices of the proxy Service. Not-ready pods are included on purpose:
 * a proxy is not ready until it has a snapshot, and it gets one by push. Terminating pods get no pushes; they are
 * listed apart, because they still hold their share of fleet-wide numbers while they finish their requests.
 */
import { sliceEndpoints } from '../discovery/endpointslices.js';
import type { EndpointSlice } from '../k8s/objects.js';

/** One proxy admin endpoint. */
export interface ProxyTarget {
  /** Pod name (or a hash of the address when the slice has no targetRef), for logs. */
  name: string;
  /** Base URL of the admin API, e.g. http://10.0.0.7:9090. */
  url: string;
}

/**
 * Targets from slices: every non-terminating address. `adminPort` is either a fixed port number (the admin port
 * need not be exposed by the Service) or the name of a Service port, whose number is read from each slice.
 */
export function proxyTargets(slices: EndpointSlice[], adminPort: number | string): ProxyTarget[] {
  return proxyEndpoints(slices, adminPort)
    .filter((e) => !e.terminating)
    .map(({ name, url }) => ({ name, url }));
}

/** Names of the proxy pods that are terminating: no pushes, but they hold their share until they are gone. */
export function terminatingProxies(slices: EndpointSlice[], adminPort: number | string): string[] {
  return proxyEndpoints(slices, adminPort)
    .filter((e) => e.terminating)
    .map((e) => e.name);
}

function proxyEndpoints(slices: EndpointSlice[], adminPort: number | string) {
  const targets = new Map<string, ProxyTarget & { terminating: boolean }>();
  for (const slice of slices) {
    let view: EndpointSlice;
    let portName: string;
    if (typeof adminPort === 'number') {
      portName = '';
      view = { ...slice, ports: [{ name: '', port: adminPort, protocol: 'TCP' }] };
    } else {
      portName = adminPort;
      view = slice;
    }
    for (const e of sliceEndpoints([view], portName)) {
      const url = `http://${e.address}`;
      targets.set(url, { name: e.name, url, terminating: e.terminating });
    }
  }
  return [...targets.values()];
}
