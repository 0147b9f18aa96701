/**
 * The Switchyard operator process.
 *
 *   npx tsx operator/src/main.ts --proxy-service switchyard/switchyard-proxy [--kubeconfig FILE] [--context NAME] [--namespace NS]
 *     [--proxy-admin-port 9090|PORT_NAME] [--push-token-file FILE] [--metrics-port 9090] [--metrics-host 0.0.0.0]
 *     [--leader-elect=false] [--lease-name switchyard-operator] [--lease-namespace NS] [--identity ID]
 *     [--lease-duration 15s] [--renew-deadline 10s] [--retry-period 2s] [--resync 10s] [--log-level info]
 *
 * --proxy-admin-port: a number (the admin port of every proxy pod) or the name of a proxy Service port (its number
 * is read from the EndpointSlices).
 * Env: KUBECONFIG (colon-separated files are merged); SWITCHYARD_PUSH_TOKEN (instead of --push-token-file); POD_NAME / POD_NAMESPACE (identity and
 * lease namespace defaults). In a pod without --kubeconfig the in-cluster service account is used.
 * SIGTERM/SIGINT: stop reconciling, release the Lease, exit 0. Flags are parsed strictly (flags.ts): a bad one
 * prints the reason and the usage and exits 2.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { pino } from 'pino';
import { parseFlags, USAGE, UsageError } from './flags.js';
import { startHealthServer } from './health.js';
import { loadConnection } from './k8s/kubeconfig.js';
import { createOperatorMetrics } from './metrics.js';
import { startOperator } from './operator.js';

let parsed: ReturnType<typeof parseFlags>;
try {
  parsed = parseFlags(process.argv.slice(2), process.env);
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  process.stderr.write(`error: ${err.message}\n\n${USAGE}\n`);
  process.exit(2);
}
if (parsed === 'help') {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const f = parsed;

const log = pino({ level: f.logLevel, base: { component: 'operator' } });

function fail(message: string): never {
  log.fatal(message);
  process.exit(2);
}

const proxyService = f.proxyService;
const tokenFile = f.pushTokenFile;
/** Read per push, so a rotated token file is picked up; a failure fails that push (retried), not the process. */
const pushToken = (): string => {
  const t = tokenFile ? readFileSync(tokenFile, 'utf8').trim() : process.env.SWITCHYARD_PUSH_TOKEN;
  if (!t) throw new Error('a push token is required (--push-token-file or SWITCHYARD_PUSH_TOKEN)');
  return t;
};
try {
  pushToken();
} catch (err) {
  fail(String(err));
}

let connection: Awaited<ReturnType<typeof loadConnection>>;
try {
  connection = await loadConnection({ kubeconfig: f.kubeconfig, context: f.context });
} catch (err) {
  fail(String(err));
}

const metrics = createOperatorMetrics();
const identity = f.identity ?? process.env.POD_NAME ?? `${hostname()}-${process.pid}`;
const leaseNamespace = f.leaseNamespace ?? process.env.POD_NAMESPACE ?? proxyService.split('/')[0];
let operator: ReturnType<typeof startOperator>;
try {
  operator = startOperator({
    connection,
    namespace: f.namespace,
    proxyService,
    proxyAdminPort: f.proxyAdminPort,
    pushToken,
    pushTimeoutMs: f.pushTimeoutMs,
    resyncIntervalMs: f.resyncMs,
    leaderElection: f.leaderElect
      ? {
          namespace: leaseNamespace as string,
          name: f.leaseName,
          identity,
          leaseDurationMs: f.leaseDurationMs,
          renewDeadlineMs: f.renewDeadlineMs,
          retryPeriodMs: f.retryPeriodMs,
        }
      : undefined,
    metrics,
    log,
    onLostLeadership: () => {
      log.error('leadership lost; exiting so a fresh process can campaign again');
      process.exit(1);
    },
  });
} catch (err) {
  fail(String(err)); // e.g. --renew-deadline not below --lease-duration
}

let synced = false;
void operator.synced.then(() => {
  synced = true;
  log.info('caches synced');
});

const server = await startHealthServer({
  host: f.metricsHost,
  port: f.metricsPort,
  registry: metrics.registry,
  ready: () => synced,
});
log.info({ identity, proxyService, metricsPort: f.metricsPort }, 'operator started');

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  const timer = setTimeout(() => process.exit(1), 10_000);
  await operator.stop();
  server.close();
  clearTimeout(timer);
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
