/**
 * The proxy process. Flags (env in brackets):
 *   --config FILE|DIR     standalone mode: manifests to load and watch (SWITCHYARD_CONFIG)
 *   --host, --port        traffic listener, default 0.0.0.0:8080 (SWITCHYARD_HOST, SWITCHYARD_PORT)
 *   --admin-host, --admin-port   admin listener, default <host>:9090
 *   --push-token-file F   bearer token for PUT /config (SWITCHYARD_PUSH_TOKEN holds the token itself)
 *   --max-body-bytes N    request body limit, default 10 MiB
 *   --headers-timeout-seconds S, --body-timeout-seconds S   client send timeouts (408), default 10 and 30
 *   --max-unauthenticated-body-bytes N   body bytes held at once by callers without a valid key, default 64 MiB
 *   --max-json-depth N, --max-json-values N, --max-model-name-length N   request bounds (400), default 64,
 *                         100,000 and 256
 *   --max-upstream-event-bytes N, --max-upstream-response-bytes N   upstream bounds (502), default 1 MiB, 32 MiB
 *   --drain-seconds N     grace period on SIGTERM, default 30
 *   --log-level L         pino level (LOG_LEVEL)
 *   --access-log=false    turn the per-request access log off, e.g. for benchmarks (SWITCHYARD_ACCESS_LOG)
 *   OpenTelemetry tracing is configured by the standard OTEL_* variables (off without OTEL_EXPORTER_OTLP_ENDPOINT)
 *   --redis-url URL       Redis for shared rate limits and the response cache (SWITCHYARD_REDIS_URL)
 *   --ledger-url URL      PostgreSQL for the usage ledger (SWITCHYARD_LEDGER_URL); omitted: no ledger
 *   --usage-token-file F  bearer token that may read GET /usage (SWITCHYARD_USAGE_TOKEN holds the token itself); the
 *                         push token may too
 *   --ledger-retention-days N   days ledger entries are kept, default 400, at least 32 (SWITCHYARD_LEDGER_RETENTION_DAYS)
 *   --default-access allow|deny   who may call pools no RoutePolicy covers: everyone (default) or no one; deny is
 *                         the secure choice (SWITCHYARD_DEFAULT_ACCESS)
 *   --fleet-size N, --fleet-ordinal I   standalone mode with N proxies: this is proxy I (0…N-1) and applies its share
 *                         of every fleet-wide number (SWITCHYARD_FLEET_SIZE, SWITCHYARD_FLEET_ORDINAL); default 1, 0.
 *                         Pushed snapshots carry the operator's count instead.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ManifestError } from '../../shared/src/manifests/parse.js';
import { startProxy } from './server.js';
import { createLogger } from './telemetry/logger.js';

const { values } = parseArgs({
  options: {
    config: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
    'admin-host': { type: 'string' },
    'admin-port': { type: 'string' },
    'push-token-file': { type: 'string' },
    'max-body-bytes': { type: 'string' },
    'headers-timeout-seconds': { type: 'string' },
    'body-timeout-seconds': { type: 'string' },
    'max-unauthenticated-body-bytes': { type: 'string' },
    'max-json-depth': { type: 'string' },
    'max-json-values': { type: 'string' },
    'max-model-name-length': { type: 'string' },
    'max-upstream-event-bytes': { type: 'string' },
    'max-upstream-response-bytes': { type: 'string' },
    'drain-seconds': { type: 'string' },
    'log-level': { type: 'string' },
    'access-log': { type: 'string' },
    'redis-url': { type: 'string' },
    'default-access': { type: 'string' },
    'fleet-size': { type: 'string' },
    'fleet-ordinal': { type: 'string' },
    'ledger-url': { type: 'string' },
    'ledger-retention-days': { type: 'string' },
    'usage-token-file': { type: 'string' },
  },
  strict: true,
});

const env = process.env;
const log = createLogger({
  ...((values['log-level'] ?? env.LOG_LEVEL) ? { level: values['log-level'] ?? env.LOG_LEVEL } : {}),
});
const tokenFile = values['push-token-file'] ?? env.SWITCHYARD_PUSH_TOKEN_FILE;
const pushToken = tokenFile ? readFileSync(tokenFile, 'utf8').trim() : env.SWITCHYARD_PUSH_TOKEN;
const usageTokenFile = values['usage-token-file'] ?? env.SWITCHYARD_USAGE_TOKEN_FILE;
const usageToken = usageTokenFile ? readFileSync(usageTokenFile, 'utf8').trim() : env.SWITCHYARD_USAGE_TOKEN;
const num = (v: string | undefined, fallback: number) => (v === undefined || v === '' ? fallback : Number(v));
/** A non-negative number flag, or undefined (the default applies); anything else stops the start. */
const bound = (name: string, scale = 1): number | undefined => {
  const v = values[name as keyof typeof values];
  if (typeof v !== 'string' || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) {
    process.stderr.write(`--${name}: expected a non-negative number, got '${v}'\n`);
    process.exit(2);
  }
  return Math.round(n * scale);
};
const limits = {
  maxBodyBytes: bound('max-body-bytes'),
  headersTimeoutMs: bound('headers-timeout-seconds', 1000),
  bodyTimeoutMs: bound('body-timeout-seconds', 1000),
  maxUnauthenticatedBodyBytes: bound('max-unauthenticated-body-bytes'),
  maxJsonDepth: bound('max-json-depth'),
  maxJsonValues: bound('max-json-values'),
  maxModelNameLength: bound('max-model-name-length'),
  maxUpstreamEventBytes: bound('max-upstream-event-bytes'),
  maxUpstreamResponseBytes: bound('max-upstream-response-bytes'),
};
const defaultAccess = (values['default-access'] ?? env.SWITCHYARD_DEFAULT_ACCESS ?? 'allow').trim();
if (defaultAccess !== 'allow' && defaultAccess !== 'deny') {
  process.stderr.write(`--default-access: expected allow or deny, got '${defaultAccess}'\n`);
  process.exit(2);
}
const fleetSize = num(values['fleet-size'] ?? env.SWITCHYARD_FLEET_SIZE, 1);
const fleetOrdinal = num(values['fleet-ordinal'] ?? env.SWITCHYARD_FLEET_ORDINAL, 0);
if (
  !Number.isInteger(fleetSize) ||
  fleetSize < 1 ||
  !Number.isInteger(fleetOrdinal) ||
  fleetOrdinal < 0 ||
  fleetOrdinal >= fleetSize
) {
  process.stderr.write(
    `--fleet-size/--fleet-ordinal: expected 1 ≤ size and 0 ≤ ordinal < size, got ${fleetSize}, ${fleetOrdinal}\n`,
  );
  process.exit(2);
}
const ledgerUrl = values['ledger-url'] ?? env.SWITCHYARD_LEDGER_URL;
const retention = values['ledger-retention-days'] ?? env.SWITCHYARD_LEDGER_RETENTION_DAYS;
const retentionDays = retention === undefined || retention === '' ? undefined : Number(retention);
if (retentionDays !== undefined && !(Number.isFinite(retentionDays) && retentionDays >= 32)) {
  process.stderr.write(`--ledger-retention-days: expected a number of days, at least 32, got '${retention}'\n`);
  process.exit(2);
}
const configPath = values.config ?? env.SWITCHYARD_CONFIG;
const accessLog = !/^(false|0|off|no)$/i.test((values['access-log'] ?? env.SWITCHYARD_ACCESS_LOG ?? 'true').trim());

try {
  const proxy = await startProxy({
    host: values.host ?? env.SWITCHYARD_HOST ?? '0.0.0.0',
    port: num(values.port ?? env.SWITCHYARD_PORT, 8080),
    ...((values['admin-host'] ?? env.SWITCHYARD_ADMIN_HOST)
      ? { adminHost: values['admin-host'] ?? env.SWITCHYARD_ADMIN_HOST }
      : {}),
    adminPort: num(values['admin-port'] ?? env.SWITCHYARD_ADMIN_PORT, 9090),
    ...(configPath ? { configPath } : {}),
    ...(pushToken ? { pushToken } : {}),
    ...(usageToken ? { usageToken } : {}),
    limits,
    ...((values['redis-url'] ?? env.SWITCHYARD_REDIS_URL)
      ? { redisUrl: values['redis-url'] ?? env.SWITCHYARD_REDIS_URL }
      : {}),
    ...(ledgerUrl ? { ledger: { url: ledgerUrl, ...(retentionDays !== undefined ? { retentionDays } : {}) } } : {}),
    log,
    accessLog,
    defaultAccess,
    ...(fleetSize > 1 ? { fleet: { proxies: fleetSize, ordinal: fleetOrdinal } } : {}),
  });
  if (!pushToken && !configPath) log.warn('no push token configured: PUT /config will refuse every push');
  const graceMs = num(values['drain-seconds'], 30) * 1000;
  let signals = 0;
  const shutdown = (signal: string) => {
    if (++signals > 1) process.exit(1);
    log.info({ signal, graceMs }, 'draining');
    proxy.close(graceMs).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
} catch (e) {
  if (e instanceof ManifestError) {
    log.fatal({ problems: e.problems }, 'invalid manifests');
    process.stderr.write(`${e.message}\n`);
  } else log.fatal({ err: e }, 'proxy failed to start');
  process.exit(1);
}
process.on('unhandledRejection', (e) => log.error({ err: e }, 'unhandled rejection'));
