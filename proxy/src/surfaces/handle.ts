/** The handler every proxied operation shares: read and validate the body, build the call, run the pipeline. */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context } from 'hono';
import type { z } from 'zod';
import type { Clock } from '../../../shared/src/clock.js';
import { type Call, newCall } from '../call/call.js';
import type { Observers } from '../call/observers.js';
import type { Runtime } from '../config/runtime.js';
import type { SnapshotStore } from '../config/store.js';
import type { Env } from '../env.js';
import { errors, GatewayError } from '../errors.js';
import { readJsonObject } from '../http/body.js';
import type { ByteBudget } from '../http/byte-budget.js';
import type { ResourceLimits } from '../http/limits.js';
import { NodeSink } from '../http/sink.js';
import type { Operation } from '../protocols/catalog.js';
import { CLIENT_OPERATIONS, ERROR_SHAPES } from '../protocols/clients.js';
import { inKeyOrder, validationError } from '../protocols/common/json.js';
import type { ClientRequest, RequestBodies } from '../protocols/requests.js';

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
  /** The call stages and the upstream pipeline, composed by the app. */
  run(call: Call): Promise<void>;
  observers: Observers;
  /** Clock of the body's time limit. */
  clock: Clock;
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
  return readJsonObject(bindingsOf(c).incoming, {
    limits: deps.limits,
    budget: authenticated ? undefined : deps.unauthenticatedBytes,
    clock: deps.clock,
  });
}

/** The Node request and response of `c`: the traffic app is served by @hono/node-server only. */
function bindingsOf(c: Context<Env>): { incoming: IncomingMessage; outgoing: ServerResponse } {
  const { incoming, outgoing } = c.env ?? {};
  if (!incoming || !outgoing) throw new Error('the traffic app runs on Node (@hono/node-server)');
  return { incoming, outgoing };
}

/** Reads a client's JSON body as the typed request of one operation (a 400 naming the first invalid field). */
export type RequestParser = (raw: unknown) => ClientRequest;

/** The parser of `operation`'s requests, with `schema` (default: the operation's own; a route may refine it). */
export function requestParser<O extends Operation>(
  operation: O,
  schema: z.ZodType<RequestBodies[O]> = CLIENT_OPERATIONS[operation].schema,
): (raw: unknown) => ClientRequest<O> {
  return (raw) => {
    const parsed = schema.safeParse(raw);
    if (!parsed.success) throw validationError(parsed.error);
    // Bodies go upstream in the client's own key order, as it sent them.
    return { operation, body: inKeyOrder(parsed.data, raw) };
  };
}

/** Serves one proxied operation: reads and validates the body with `parse`, builds the call and runs the pipeline. */
export async function handleOperation(c: Context<Env>, deps: SurfaceDeps, parse: RequestParser): Promise<Response> {
  const record = c.get('record');
  const runtime = deps.store.current;
  if (!runtime) throw errors.unavailable('the gateway has no configuration yet', 'not_ready', 1000);
  const raw = await readRequestBody(c, deps, runtime);
  checkModelName(raw.model, deps.limits);
  const request = parse(raw);
  const sink = new NodeSink(bindingsOf(c).outgoing);
  const call = newCall({ record, request, header: (name) => c.req.header(name), sink, runtime });
  const surface = call.surface;
  record.surface = surface;
  record.request = { operation: request.operation, model: call.model, stream: call.stream };
  record.enteredAt = performance.now();
  deps.observers.emit('onCallStart', call);
  try {
    await deps.run(call);
  } catch (e) {
    if (!sink.headSent) throw e;
    // Bytes already reached the client: end the stream with the surface's error event.
    const err = e instanceof GatewayError ? e : errors.badGateway('internal error while streaming', 'internal');
    if (!sink.closed) sink.end(ERROR_SHAPES[surface].streamError(err));
  } finally {
    deps.observers.emit('onCallEnd', call);
  }
  if (!sink.headSent)
    throw sink.closed
      ? errors.badGateway('the client went away', 'client_closed')
      : errors.badGateway('the gateway produced no response', 'internal');
  record.response.status ??= 200;
  return sink.response();
}
