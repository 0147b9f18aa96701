/**
 * Kubernetes object types, from @kubernetes/client-node's models in the form they take on the wire. The library
 * types timestamps as Date because its generated API classes convert them; this operator reads and writes the JSON
 * itself (client.ts), where they are RFC 3339 strings. Only types are imported: nothing of the library runs here.
 */
import type {
  CoreV1Event,
  V1EndpointSlice,
  V1Lease,
  V1ObjectMeta,
  V1Secret,
  V1Service,
  V1Status,
} from '@kubernetes/client-node';

/** A client-node model as JSON: Date fields (Time, MicroTime) are strings, everything else as the model says. */
export type Json<T> = T extends Date
  ? string
  : T extends readonly (infer U)[]
    ? Json<U>[]
    : T extends object
      ? { [K in keyof T]: Json<T[K]> }
      : T;

/** Metadata of a stored object: the apiserver always returns its name. */
export type ObjectMeta = Json<V1ObjectMeta> & { name: string };

/** An object as the apiserver returns it: its model as JSON, with metadata and a name. */
export type Stored<T extends { metadata?: V1ObjectMeta }> = Omit<Json<T>, 'metadata'> & { metadata: ObjectMeta };

/** Any stored object; informers, status writes and events need no more than this. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
}

/** A custom resource as stored: spec and status are unchecked JSON until a schema parses them. */
export interface CustomObject extends KubeObject {
  spec?: unknown;
  status?: unknown;
}

/** core/v1 Service. */
export type Service = Stored<V1Service>;
/** discovery.k8s.io/v1 EndpointSlice. */
export type EndpointSlice = Stored<V1EndpointSlice>;
/** coordination.k8s.io/v1 Lease. */
export type Lease = Stored<V1Lease>;
/** core/v1 Secret. */
export type Secret = Stored<V1Secret>;
/** core/v1 Event, as the operator creates it. */
export type Event = Json<CoreV1Event>;
/** meta/v1 Status: the body of an error answer and of a watch ERROR event. */
export type Status = Json<V1Status>;

/**
 * A list answer. Its metadata is spelled out because the library's V1ListMeta renames the `continue` field (a
 * reserved word) to `_continue`, which is not what the apiserver sends.
 */
export interface List<T> {
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

/** Cache key `namespace/name`. */
export const keyOf = (o: KubeObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
