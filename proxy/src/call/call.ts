/**
 * The typed call context: one client request on its way through the call stages to the upstream pipeline. A stage
 * reads what the stages before it decided from typed fields and hands the next stage a new call with its own
 * decision added (`next({ ...call, route })`): the type of each position says what is known there (a Call after
 * routing, an AuthorizedCall after authorisation, an AdmittedCall after admission). What happened on the way is
 * recorded in `call.record` (record.ts) for observers. The per-snapshot indexes a stage needs are compiled with the
 * snapshot (`call.runtime`); the per-proxy ones are built once by createApp.
 */
import type { Directory, Identity, PolicyView, TenantConfig } from '../config/directory.js';
import type { RoutePlan } from '../config/routes.js';
import type { PoolRuntime, Runtime } from '../config/runtime.js';
import type { ResponseSink } from '../http/sink.js';
import { OPERATION_SURFACE, type SurfaceName } from '../protocols/catalog.js';
import { requestFacts } from '../protocols/clients.js';
import type { ClientRequest } from '../protocols/requests.js';
import type { CallRecord } from './record.js';

/** A request of a client, parsed and validated, entering the call stages. */
export interface Call {
  readonly record: CallRecord;
  readonly surface: SurfaceName;
  /** The client's validated request: its operation and typed body. */
  readonly request: ClientRequest;
  /** The model name the client asked for. */
  readonly model: string;
  readonly stream: boolean;
  /** Whether the client asked for usage in its stream (OpenAI `stream_options.include_usage`). */
  readonly clientWantsUsage: boolean;
  /** Canonical prompt text, for prefix-aware scheduling. */
  readonly prompt: string | undefined;
  /** A client request header (lower-case name). */
  header(name: string): string | undefined;
  /** Where the answer goes; stages may wrap it for the stages inside them. */
  readonly sink: ResponseSink;
  /** The snapshot the call runs on, from start to end. */
  readonly runtime: Runtime;
  /**
   * The route (routing stage): the pools that may serve the call. Undefined when nothing serves the model: the
   * authorisation stage then gives the answer a caller may see.
   */
  readonly route?: RoutePlan<PoolRuntime> | undefined;
}

/** Who is calling, as authorisation found it. */
export interface Grant {
  /** The caller's identity when a known key was presented. */
  identity: Identity | undefined;
  /** The RoutePolicy holding the caller's key. */
  own: PolicyView | undefined;
  /** The caller's tenant entry there (models, limits, keyLimits, guardrails). */
  tenant: TenantConfig | undefined;
}

/** A call that may go on: its route (fallbacks the caller may not reach removed) and its caller. */
export interface AuthorizedCall extends Call {
  readonly route: RoutePlan<PoolRuntime>;
  readonly grant: Grant;
}

/** Whether the cache may answer a call (cache/plan.ts). */
export interface CachePlan {
  /** The key of the call's answer; undefined when the call is not cacheable (a bypass). */
  key: string | undefined;
  ttlMs: number;
  /** Largest answer stored, bytes. */
  maxEntryBytes: number;
}

/** What admission found besides the counters: the cached answer under the cache plan's key, when there is one. */
export interface Admission {
  /** The cache plan of the call (undefined: no cache covers its pool). */
  cache: CachePlan | undefined;
  /** The entry the store holds under `cache.key` (undefined: none). */
  cached: string | undefined;
  /** Response headers of the admission (`x-ratelimit-*`). */
  headers: Readonly<Record<string, string>>;
  /** Stores `entry` in the cache with the settling round trip after the answer (at most once). */
  storeWithSettle(entry: { value: string; ttlMs: number }): void;
}

/** A call the limits admitted. */
export interface AdmittedCall extends AuthorizedCall {
  readonly admission: Admission;
}

/**
 * One stage of the call: it may answer or refuse (throw a GatewayError) itself, or pass a call (its own decisions
 * added) to `next`, and look at what happened after `next` resolves.
 */
export type Stage<In extends Call, Out extends Call = In> = (
  call: In,
  next: (call: Out) => Promise<void>,
) => Promise<void>;

/** `stage` in front of `next`. */
export function before<In extends Call, Out extends Call>(
  stage: Stage<In, Out>,
  next: (call: Out) => Promise<void>,
): (call: In) => Promise<void> {
  return (call) => stage(call, next);
}

/** The directory of the call's snapshot (API keys, tenants, covering policies). */
export const directoryOf = (call: Call): Directory => call.runtime.directory;

/** A call entering the stages: `request` with the facts it states about itself. */
export function newCall(parts: {
  record: CallRecord;
  request: ClientRequest;
  header(name: string): string | undefined;
  sink: ResponseSink;
  runtime: Runtime;
}): Call {
  const facts = requestFacts(parts.request);
  return {
    ...parts,
    surface: OPERATION_SURFACE[parts.request.operation],
    model: parts.request.body.model,
    stream: facts.stream,
    clientWantsUsage: facts.clientWantsUsage,
    prompt: facts.prompt,
  };
}
