/**
 * The admin app (port 9090): /healthz (live), /readyz (has a snapshot), /metrics, GET /config (version and
 * summary, no secrets), GET /config/version (the version and this proxy's place in the fleet), PUT /config (snapshot
 * push, plain or gzip; bearer token required; invalid snapshots refused with 4xx while the old one keeps serving). Every /config answer carries `instance`, an
 * id of this process that changes on restart, so the operator can tell a restarted proxy from one in sync.
 * GET /usage (usage.ts): usage and spend from the ledger, bearer token required.
 */
import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { type Clock, sleep, systemClock } from '../../../shared/src/clock.js';
import { summarizeConfig } from '../../../shared/src/proxyconfig/index.js';
import { withinShares } from '../config/runtime.js';
import { InvalidSnapshotError, type SnapshotStore } from '../config/store.js';
import type { Ledger } from '../ledger/index.js';
import { bearerChecker } from './auth.js';
import { endpointStatus } from './endpoints.js';
import { readSnapshotText, SnapshotBodyError } from './snapshot-body.js';
import { addUsageRoutes } from './usage.js';

export interface AdminDeps {
  store: SnapshotStore;
  log: Logger;
  /** Token required by PUT /config; without one, pushes are refused. */
  pushToken?: string | undefined;
  registry?: Registry;
  /** Largest snapshot accepted (bytes); default 64 MiB. */
  maxSnapshotBytes?: number;
  /** False while draining on shutdown: /readyz fails so no new traffic arrives. */
  isAccepting?: () => boolean;
  /** Id of this proxy process, reported by /config (default: a random UUID per app, so new on every start). */
  instance?: string;
  /** The usage ledger GET /usage reads (404 without one). */
  ledger?: Pick<Ledger, 'queryUsage'> | undefined;
  /** Token that may read GET /usage (the push token may too). */
  usageToken?: string | undefined;
  /**
   * How long PUT /config waits, after applying a snapshot that lowers this proxy's shares, for the requests already
   * in flight to fit in them before it answers (default 2 s; the answer says whether they do: `settled`).
   */
  settleWaitMs?: number;
  /** The clock the endpoints' state is kept on, and of the wait after a snapshot (default: the system clock). */
  clock?: Clock;
}

/** Waits up to `ms` for the served runtime to keep within its shares; whether it does. */
async function settle(store: SnapshotStore, ms: number, clock: Clock): Promise<boolean> {
  const until = clock.now() + ms;
  for (;;) {
    const rt = store.current;
    if (!rt || withinShares(rt)) return true;
    if (clock.now() >= until) return false;
    await sleep(clock, Math.min(25, until - clock.now()));
  }
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** Builds the admin app. */
export function createAdminApp(deps: AdminDeps): Hono {
  const clock = deps.clock ?? systemClock;
  const app = new Hono();
  const instance = deps.instance ?? randomUUID();
  const noConfig = () => json(503, { error: { message: 'no configuration yet' }, instance });
  const authorized = bearerChecker(deps.pushToken);
  const mayReadUsage = bearerChecker(deps.usageToken);
  const maxBytes = deps.maxSnapshotBytes ?? 64 * 1024 * 1024;

  app.get('/healthz', (c) => c.text('ok'));
  app.get('/readyz', (c) => {
    if (deps.isAccepting && !deps.isAccepting()) return c.text('draining', 503);
    return deps.store.current ? c.text('ok') : c.text('no configuration yet', 503);
  });
  // The registry's output format is a property of the registry: scrapes are serialised so two concurrent ones
  // asking for different formats never see each other's.
  let scrapes: Promise<unknown> = Promise.resolve();
  app.get('/metrics', async (c) => {
    const registry = deps.registry;
    if (!registry) return c.text('', 404);
    const openMetrics = (c.req.header('accept') ?? '').includes('application/openmetrics-text');
    const render = async () => {
      registry.setContentType(
        (openMetrics
          ? 'application/openmetrics-text; version=1.0.0; charset=utf-8'
          : 'text/plain; version=0.0.4; charset=utf-8') as never,
      );
      return { body: await registry.metrics(), type: registry.contentType };
    };
    const result = scrapes.then(render, render);
    scrapes = result.catch(() => undefined);
    const { body, type } = await result;
    return c.body(body, 200, { 'content-type': type });
  });
  app.get('/config', () => {
    const rt = deps.store.current;
    if (!rt) return noConfig();
    return json(200, {
      ...summarizeConfig(rt.config),
      fleet: rt.fleet ?? null,
      appliedAt: new Date(deps.store.appliedAt).toISOString(),
      instance,
    });
  });
  app.get('/config/version', () => {
    const rt = deps.store.current;
    if (!rt) return noConfig();
    return json(200, { version: rt.config.version, instance, fleet: rt.fleet ?? null, settled: withinShares(rt) });
  });
  app.get('/config/endpoints', () => {
    const rt = deps.store.current;
    return rt ? json(200, { version: rt.config.version, pools: endpointStatus(rt, clock.now()) }) : noConfig();
  });
  addUsageRoutes(app, { ledger: deps.ledger, authorized: (h) => mayReadUsage(h) || authorized(h) }, () => clock.now());
  app.put('/config', async (c) => {
    if (!authorized(c.req.header('authorization'))) {
      return json(401, { error: { message: 'a valid bearer token is required to push configuration' } });
    }
    let text: string;
    try {
      text = await readSnapshotText(c.req.raw, maxBytes);
    } catch (e) {
      if (e instanceof SnapshotBodyError) return json(e.status, { error: { message: e.message } });
      throw e;
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return json(400, { error: { message: 'snapshot is not valid JSON' } });
    }
    try {
      const previous = deps.store.current?.config.version;
      const config = deps.store.apply(body);
      if (config.version !== previous) deps.log.info({ version: config.version, previous }, 'snapshot applied');
      const settled = await settle(deps.store, deps.settleWaitMs ?? 2000, clock);
      return json(200, { version: config.version, instance, fleet: deps.store.current?.fleet ?? null, settled });
    } catch (e) {
      if (e instanceof InvalidSnapshotError) {
        deps.log.warn(
          { problems: e.problems.slice(0, 20), serving: deps.store.current?.config.version },
          'snapshot rejected',
        );
        return json(422, {
          error: { message: e.message, problems: e.problems },
          version: deps.store.current?.config.version ?? null,
          instance,
        });
      }
      throw e;
    }
  });
  return app;
}
