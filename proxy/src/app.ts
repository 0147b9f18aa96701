/**
 * createApp(deps): the traffic app (port 8080). Hono routes and runs middleware; the upstream call and the
 * response body bypass Web streams (see pipeline/), so tests can drive it with app.request() and production
 * serves it through @hono/node-server.
 */
import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import type { Logger } from 'pino';
import type { SnapshotStore } from './config/store.js';
import type { Env } from './env.js';
import { errors, GatewayError } from './errors.js';
import { ByteBudget } from './http/byte-budget.js';
import { type ResourceLimits, resolveLimits } from './http/limits.js';
import { executeCall } from './pipeline/execute.js';
import { isolateHooks } from './pipeline/isolate-hooks.js';
import { type CallMiddleware, composeCall } from './pipeline/middleware.js';
import type { PipelineHooks } from './pipeline/types.js';
import type { SurfaceDeps } from './surfaces/handle.js';
import { errorShapeFor, SURFACES, surfaceNameFor } from './surfaces/index.js';
import type { UpstreamPools } from './upstream/pools.js';

export interface AppDeps {
  store: SnapshotStore;
  pools: UpstreamPools;
  log: Logger;
  /** Bounds on request bodies, timeouts and upstream answers (defaults: http/limits.ts). */
  limits?: Partial<ResourceLimits>;
  /** Screens the caller's credentials from the headers before the body is read (see SurfaceDeps.screen). */
  screen?: SurfaceDeps['screen'];
  /** Stages around the upstream pipeline (auth, limits, cache, telemetry), outermost first. */
  callMiddleware?: CallMiddleware[];
  hooks?: PipelineHooks;
  /** Called once per request when its response is complete or the client left. */
  onRequestEnd?: (state: Env['Variables']['state']) => void;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function createApp(deps: AppDeps): Hono<Env> {
  const app = new Hono<Env>();
  const limits = resolveLimits(deps.limits);
  const pipelineDeps = {
    pools: deps.pools,
    log: deps.log,
    maxResponseBytes: limits.maxUpstreamResponseBytes,
    maxEventBytes: limits.maxUpstreamEventBytes,
    ...(deps.hooks ? { hooks: isolateHooks(deps.hooks, deps.log) } : {}),
  };
  const onRequestEnd = deps.onRequestEnd;
  const requestEnded = onRequestEnd
    ? (state: Env['Variables']['state']) => {
        try {
          onRequestEnd(state);
        } catch (e) {
          deps.log.error({ err: e, requestId: state.id }, 'request-end observer failed');
        }
      }
    : undefined;
  const run = composeCall(deps.callMiddleware ?? [], (call) => executeCall(pipelineDeps, call));
  const surfaceDeps: SurfaceDeps = {
    store: deps.store,
    limits,
    unauthenticatedBytes: new ByteBudget(limits.maxUnauthenticatedBodyBytes),
    run,
    ...(deps.screen ? { screen: deps.screen } : {}),
  };

  app.use(async function requestState(c, next) {
    const given = c.req.header('x-request-id');
    const id = given && REQUEST_ID.test(given) ? given : randomUUID();
    c.set('state', { id, startedAt: Date.now(), surface: surfaceNameFor(c.req.path), attempts: 0 });
    c.set('log', deps.log);
    await next();
    const state = c.get('state');
    state.status ??= c.res.status;
    if (!c.res.headers.has('x-request-id') && !c.res.headers.has('x-hono-already-sent'))
      c.res.headers.set('x-request-id', id);
    if (requestEnded) {
      const outgoing = c.env?.outgoing;
      // Wait for the last bytes to leave; a client that already left (an aborted stream) has closed it already.
      if (outgoing && !outgoing.writableFinished && !outgoing.destroyed)
        outgoing.once('close', () => requestEnded(state));
      else requestEnded(state);
    }
  });

  for (const s of SURFACES) app.route('/', s.routes(surfaceDeps));

  app.notFound((c) => {
    const path = c.req.path.length > 256 ? `${c.req.path.slice(0, 255)}…` : c.req.path;
    const err = errors.notFound(`Invalid URL (${c.req.method} ${path})`);
    const r = errorShapeFor(c.req.path).renderError(err, c.get('state')?.id);
    return c.body(r.body, r.status as 404, r.headers);
  });

  app.onError((e, c) => {
    const state = c.get('state');
    let err: GatewayError;
    if (e instanceof GatewayError) err = e;
    else {
      deps.log.error({ err: e, requestId: state?.id }, 'unhandled error');
      err = new GatewayError(500, 'internal', 'The gateway failed to process the request.', { code: 'internal_error' });
    }
    if (state) {
      state.status = err.status;
      state.errorCode = err.code ?? err.kind;
    }
    const r = errorShapeFor(c.req.path, state?.surface).renderError(err, state?.id);
    return c.body(r.body, r.status as 400, { ...r.headers, 'x-request-id': state?.id ?? '' });
  });
  return app;
}
