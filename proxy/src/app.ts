/**
 * createApp(deps): the traffic app (port 8080). It builds what every call of this proxy shares — the call stages in
 * front of the upstream pipeline (governance), the pipeline's retry budgets and wait queues, the byte budget of
 * unauthenticated callers — and the Hono routes of the surfaces. Each request gets a record (call/record.ts) that
 * observers read when it ends; the upstream call and the response body bypass Web streams (see pipeline/).
 */
import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import type { Logger } from 'pino';
import { type Clock, systemClock } from '../../shared/src/clock.js';
import type { Observers } from './call/observers.js';
import { newCallRecord, summarize } from './call/record.js';
import type { SnapshotStore } from './config/store.js';
import type { Env } from './env.js';
import { errors, GatewayError } from './errors.js';
import { WaitQueues } from './flow-control/wait-queues.js';
import type { Governance } from './governance.js';
import { ByteBudget } from './http/byte-budget.js';
import { type ResourceLimits, resolveLimits } from './http/limits.js';
import { executeCall } from './pipeline/execute.js';
import type { PipelineDeps } from './pipeline/types.js';
import { RetryBudgets } from './resilience/retry-budget.js';
import type { SurfaceDeps } from './surfaces/handle.js';
import { errorShapeFor, SURFACES, surfaceNameFor } from './surfaces/index.js';
import type { UpstreamPools } from './upstream/pools.js';

export interface AppDeps {
  store: SnapshotStore;
  pools: UpstreamPools;
  log: Logger;
  /** The call stages and the state they share (auth, limits, cache, usage). */
  governance: Governance;
  /** Who is told what the request path does. */
  observers: Observers;
  /** Bounds on request bodies, timeouts and upstream answers (defaults: http/limits.ts). */
  limits?: Partial<ResourceLimits>;
  /** The queues of calls waiting for a free slot (default: new ones; startProxy counts its own in /metrics). */
  queues?: WaitQueues;
  /** Time of each request's start and of its deadlines, back-offs and waits (default: the system clock). */
  clock?: Clock;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function createApp(deps: AppDeps): Hono<Env> {
  const app = new Hono<Env>();
  const { observers } = deps;
  const limits = resolveLimits(deps.limits);
  const clock = deps.clock ?? systemClock;
  const pipeline: PipelineDeps = {
    pools: deps.pools,
    log: deps.log,
    observers,
    budgets: new RetryBudgets(),
    queues: deps.queues ?? new WaitQueues(clock),
    maxResponseBytes: limits.maxUpstreamResponseBytes,
    maxEventBytes: limits.maxUpstreamEventBytes,
    leases: deps.governance.leases,
    clock,
  };
  const surfaceDeps: SurfaceDeps = {
    store: deps.store,
    limits,
    unauthenticatedBytes: new ByteBudget(limits.maxUnauthenticatedBodyBytes),
    run: deps.governance.stages((call) => executeCall(pipeline, call)),
    screen: deps.governance.screen,
    observers,
    clock,
  };

  app.use(async function requestRecord(c, next) {
    const given = c.req.header('x-request-id');
    const id = given && REQUEST_ID.test(given) ? given : randomUUID();
    const record = newCallRecord(id, clock.now(), surfaceNameFor(c.req.path));
    c.set('record', record);
    c.set('log', deps.log);
    await next();
    record.response.status ??= c.res.status;
    if (!c.res.headers.has('x-request-id') && !c.res.headers.has('x-hono-already-sent'))
      c.res.headers.set('x-request-id', id);
    const ended = () => observers.emit('onRequestEnd', summarize(record), record);
    const outgoing = c.env?.outgoing;
    // Wait for the last bytes to leave; a client that already left (an aborted stream) has closed it already.
    if (outgoing && !outgoing.writableFinished && !outgoing.destroyed) outgoing.once('close', ended);
    else ended();
  });

  for (const s of SURFACES) app.route('/', s.routes(surfaceDeps));

  app.notFound((c) => {
    const path = c.req.path.length > 256 ? `${c.req.path.slice(0, 255)}…` : c.req.path;
    const err = errors.notFound(`Invalid URL (${c.req.method} ${path})`);
    const r = errorShapeFor(c.req.path).renderError(err, c.get('record')?.id);
    return c.body(r.body, r.status as 404, r.headers);
  });

  app.onError((e, c) => {
    const record = c.get('record');
    let err: GatewayError;
    if (e instanceof GatewayError) err = e;
    else {
      deps.log.error({ err: e, requestId: record?.id }, 'unhandled error');
      err = new GatewayError(500, 'internal', 'The gateway failed to process the request.', { code: 'internal_error' });
    }
    if (record) {
      record.response.status = err.status;
      record.response.errorCode = err.code ?? err.kind;
    }
    const r = errorShapeFor(c.req.path, record?.surface).renderError(err, record?.id);
    return c.body(r.body, r.status as 400, { ...r.headers, 'x-request-id': record?.id ?? '' });
  });
  return app;
}
