/** YAML builders for e2e tests and benchmarks: Services and EndpointSlices standing in for kubelet/controllers. */

/** One endpoint of an EndpointSlice. */
export interface SliceEndpointSpec {
  ip: string;
  /** Pod name (targetRef), which becomes the endpoint id in the snapshot. */
  pod?: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

/** A Service with one named TCP port. */
export function serviceYaml(ns: string, name: string, port: number, portName = 'http'): string {
  return `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: ${ns} }
spec:
  ports: [{ name: ${portName}, port: ${port}, targetPort: ${port}, protocol: TCP }]
`;
}

/** An EndpointSlice of `service` exposing `port` (named like the Service port). */
export function endpointSliceYaml(
  ns: string,
  service: string,
  port: number,
  endpoints: SliceEndpointSpec[],
  opts: { name?: string; portName?: string } = {},
): string {
  const eps = endpoints
    .map(
      (e) => `  - addresses: ["${e.ip}"]
    conditions: { ready: ${e.ready ?? true}, serving: ${e.serving ?? e.ready ?? true}, terminating: ${e.terminating ?? false} }${
      e.pod ? `\n    targetRef: { kind: Pod, name: ${e.pod}, namespace: ${ns} }` : ''
    }`,
    )
    .join('\n');
  return `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${opts.name ?? `${service}-1`}
  namespace: ${ns}
  labels: { kubernetes.io/service-name: ${service} }
addressType: IPv4
ports: [{ name: ${opts.portName ?? 'http'}, port: ${port}, protocol: TCP }]
endpoints:${endpoints.length === 0 ? ' []' : `\n${eps}`}
`;
}
