/** The Kubernetes resource types the operator reads and writes, and how their REST paths are built. */
import { GROUP, VERSION } from '../../../shared/src/index.js';

/** A namespaced resource type. */
export interface ResourceType {
  /** API group; '' for the core group. */
  group: string;
  version: string;
  plural: string;
  kind: string;
}

export const LLM_BACKENDS: ResourceType = { group: GROUP, version: VERSION, plural: 'llmbackends', kind: 'LLMBackend' };
export const LLM_POOLS: ResourceType = { group: GROUP, version: VERSION, plural: 'llmpools', kind: 'LLMPool' };
export const ROUTE_POLICIES: ResourceType = {
  group: GROUP,
  version: VERSION,
  plural: 'routepolicies',
  kind: 'RoutePolicy',
};
export const ENDPOINT_SLICES: ResourceType = {
  group: 'discovery.k8s.io',
  version: 'v1',
  plural: 'endpointslices',
  kind: 'EndpointSlice',
};
export const SERVICES: ResourceType = { group: '', version: 'v1', plural: 'services', kind: 'Service' };
export const SECRETS: ResourceType = { group: '', version: 'v1', plural: 'secrets', kind: 'Secret' };
export const EVENTS: ResourceType = { group: '', version: 'v1', plural: 'events', kind: 'Event' };
export const LEASES: ResourceType = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease' };

/** Collection path, across all namespaces when `namespace` is undefined. */
export function collectionPath(rt: ResourceType, namespace?: string): string {
  const prefix = rt.group === '' ? `/api/${rt.version}` : `/apis/${rt.group}/${rt.version}`;
  return namespace ? `${prefix}/namespaces/${namespace}/${rt.plural}` : `${prefix}/${rt.plural}`;
}

/** Path of one object (plus an optional subresource such as `status`). */
export function objectPath(rt: ResourceType, namespace: string, name: string, subresource?: string): string {
  return `${collectionPath(rt, namespace)}/${encodeURIComponent(name)}${subresource ? `/${subresource}` : ''}`;
}
