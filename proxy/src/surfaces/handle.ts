/** The handler every proxied operation shares: read and validate the body, build the call, run the pipeline. */
import type { Context } from 'hono';
import type { z } from 'zod';
import { formatPath } from '../../../shared/src/manifests/parse.js';
import type { Runtime } from '../config/runtime.js';
import type { SnapshotStore } from '../config/store.js';
import type { Env } from '../env.js';
import { errors, GatewayError } from '../errors.js';
import { readJsonObject } from '../http/body.js';
import type { ByteBudget } from '../http/byte-budget.js';
import type { ResourceLimits } from '../http/limits.js';
import { NodeSink, type ResponseSink, WebSink } from '../http/sink.js';
import type { ProxyCall } from '../pipeline/types.js';
import type { Operation, Surface } from './types.js';

export interface SurfaceDeps {
  store: SnapshotStore;
  limits: ResourceLimits;
  /** Bytes of bodies buffered at once by callers without a valid API key (shared by every request of the app). */
  unauthenticatedBytes: ByteBudget;
  /**
   * Looks at the caller's credentials from the headers alone, before the body is read: true for a valid API key;
   * throws (401) for a key that cannot be valid. Absent: every caller counts as unauthenticated.
   */
  screen?(runtime: Runtime, header: (name: string) => string | undefined): boolean;
  /** The pipeline with its middleware, composed by the app. */
  run(call: ProxyCall): Promise<void>;
}

export interface OperationSpec {
  surface: Surface;
  operation: Operation;
  schema: z.ZodType;
  /** Whether the client asked for a stream. */
  stream(body: Record<string, unknown>): boolean;
  clientWantsUsage?(body: Record<string, unknown>): boolean;
  /** Canonical prompt text for prefix-aware scheduling (optional). */
  prompt?(body: Record<string, unknown>): string | undefined;
}

/** A 400 naming the first invalid field. */
export function validationError(error: z.ZodError): GatewayError {
  const issue = error.issues[0];
  const param = issue ? formatPath(issue.path) : '';
  const detail = issue ? `${param ? `${param}: ` : ''}${issue.message}` : 'invalid request';
  return errors.invalid(`Invalid request: ${detail}`, param || null, 'invalid_value');
}

/** A 400 for a model name longer than the limit (it would otherwise reach logs, traces and error messages). */
export function checkModelName(model: unknown, limits: Pick<ResourceLimits, 'maxModelNameLength'>): void {
  const max = limits.maxModelNameLength;
  if (typeof model === 'string' && model.length > max)
    throw errors.invalid(`model: the model name is longer than ${max} characters.`, 'model', 'model_name_too_long');
}

/**
 * The request's JSON body, read after the caller's credentials were screened from the headers: callers without a
 * valid API key take their bytes from the shared unauthenticated budget while the body arrives.
 */
export function readRequestBody(c: Context<Env>, deps: SurfaceDeps, runtime: Runtime | undefined) {
  const authenticated = runtime ? deps.screen?.(runtime, (n) => c.req.header(n)) === true : false;
  return readJsonObject(c, { limits: deps.limits, budget: authenticated ? undefined : deps.unauthenticatedBytes });
}

/** Creates the response sink for this runtime (Node bindings when served by @hono/node-server). */
export function createSink(c: Context<Env>): ResponseSink {
  return c.env?.outgoing ? new NodeSink(c.env.outgoing) : new WebSink();
}

export async function handleOperation(c: Context<Env>, deps: SurfaceDeps, spec: OperationSpec): Promise<Response> {
  const state = c.get('state');
  state.surface = spec.surface.name;
  const runtime = deps.store.current;
  if (!runtime) throw errors.unavailable('the gateway has no configuration yet', 'not_ready', 1000);
  const body = await readRequestBody(c, deps, runtime);
  checkModelName(body.model, deps.limits);
  const parsed = spec.schema.safeParse(body);
  if (!parsed.success) throw validationError(parsed.error);
  const model = body.model as string;
  const stream = spec.stream(body);
  state.model = model;
  state.stream = stream;
  const sink = createSink(c);
  const prompt = spec.prompt?.(body);
  const call: ProxyCall = {
    surface: spec.surface,
    operation: spec.operation,
    body,
    model,
    stream,
    clientWantsUsage: spec.clientWantsUsage?.(body) ?? false,
    header: (name) => c.req.header(name),
    state,
    sink,
    runtime,
    ...(prompt !== undefined ? { prompt } : {}),
    ...(spec.prompt ? { promptOf: spec.prompt } : {}),
  };
  try {
    await deps.run(call);
  } catch (e) {
    if (!sink.headSent) throw e;
    // Bytes already reached the client: end the stream with the surface's error event.
    const err = e instanceof GatewayError ? e : errors.badGateway('internal error while streaming', 'internal');
    if (!sink.closed) sink.end(spec.surface.streamError(err));
  }
  if (!sink.headSent)
    throw sink.closed
      ? errors.badGateway('the client went away', 'client_closed')
      : errors.badGateway('the gateway produced no response', 'internal');
  state.status ??= 200;
  return sink.response();
}
