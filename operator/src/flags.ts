/**
 * The operator's command line, parsed strictly: unknown flags, stray arguments, durations without a unit, ports
 * out of range and inconsistent leader-election timings are usage errors with a message and the usage text,
 * never a stack trace or a silent zero.
 */
import { parseArgs } from 'node:util';
import { DURATION_PATTERN, MAX_DURATION_MS, parseDuration } from '../../shared/src/index.js';

/** The operator's settings. */
export interface OperatorFlags {
  kubeconfig: string | undefined;
  context: string | undefined;
  namespace: string | undefined;
  proxyService: string;
  proxyAdminPort: number | string;
  pushTokenFile: string | undefined;
  pushTimeoutMs: number;
  resyncMs: number;
  metricsHost: string;
  metricsPort: number;
  leaderElect: boolean;
  leaseName: string;
  leaseNamespace: string | undefined;
  identity: string | undefined;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  logLevel: string;
}

/** A command line that cannot be used; `message` says why. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const USAGE = `Usage: switchyard-operator --proxy-service NAMESPACE/NAME [flags]

  --proxy-service NS/NAME     Service whose EndpointSlices list the proxy pods (or SWITCHYARD_PROXY_SERVICE)
  --proxy-admin-port N|NAME   proxy admin port: a number, or the name of a port of that Service (default 9090)
  --push-token-file FILE      bearer token for PUT /config, re-read on every push (or SWITCHYARD_PUSH_TOKEN)
  --push-timeout DURATION     deadline of one push or probe (default 5s)
  --resync DURATION           ask every proxy what it serves, re-read referenced Secrets (default 10s)
  --kubeconfig FILE           kubeconfig (default: $KUBECONFIG, in-cluster, ~/.kube/config)
  --context NAME              kubeconfig context
  --namespace NS              only watch this namespace (default: all)
  --metrics-host HOST         (default 0.0.0.0)
  --metrics-port PORT         /metrics, /healthz, /readyz (default 9090)
  --leader-elect true|false   Lease-based leader election (default true)
  --lease-name NAME           (default switchyard-operator)
  --lease-namespace NS        (default: $POD_NAMESPACE, else the proxy Service's namespace)
  --identity ID               holder identity (default: $POD_NAME, else hostname-pid)
  --lease-duration DURATION   (default 15s; must be longer than --renew-deadline)
  --renew-deadline DURATION   (default 10s; must be longer than --retry-period)
  --retry-period DURATION     (default 2s)
  --log-level LEVEL           trace, debug, info, warn, error, fatal or silent (default info)
  -h, --help                  this text

Durations need a unit: 500ms, 5s, 1m30s.`;

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

function duration(flag: string, value: string): number {
  if (!DURATION_PATTERN.test(value))
    throw new UsageError(`--${flag} ${JSON.stringify(value)}: a duration needs a unit, e.g. 500ms, 5s or 1m30s`);
  const ms = parseDuration(value);
  if (ms <= 0) throw new UsageError(`--${flag} ${value}: must be longer than 0`);
  if (ms > MAX_DURATION_MS) throw new UsageError(`--${flag} ${value}: must be at most 596h`);
  return ms;
}

function port(flag: string, value: string, allowName: boolean): number | string {
  if (/^[0-9]+$/.test(value)) {
    const n = Number(value);
    if (n >= 1 && n <= 65535) return n;
  } else if (allowName && /^[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?$/.test(value)) {
    return value;
  }
  throw new UsageError(
    `--${flag} ${JSON.stringify(value)}: must be a port number 1-65535${allowName ? ' or a port name' : ''}`,
  );
}

/** Parses `argv` (without node and script); returns 'help' for -h/--help. Throws UsageError. */
export function parseFlags(argv: string[], env: NodeJS.ProcessEnv = {}): OperatorFlags | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        kubeconfig: { type: 'string' },
        context: { type: 'string' },
        namespace: { type: 'string' },
        'proxy-service': { type: 'string' },
        'proxy-admin-port': { type: 'string', default: '9090' },
        'push-token-file': { type: 'string' },
        'push-timeout': { type: 'string', default: '5s' },
        'metrics-host': { type: 'string', default: '0.0.0.0' },
        'metrics-port': { type: 'string', default: '9090' },
        'leader-elect': { type: 'string', default: 'true' },
        'lease-name': { type: 'string', default: 'switchyard-operator' },
        'lease-namespace': { type: 'string' },
        identity: { type: 'string' },
        'lease-duration': { type: 'string', default: '15s' },
        'renew-deadline': { type: 'string', default: '10s' },
        'retry-period': { type: 'string', default: '2s' },
        resync: { type: 'string', default: '10s' },
        'log-level': { type: 'string', default: env.LOG_LEVEL ?? 'info' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    // node's messages name the flag ("Unknown option '--x'"); the rest of the error is noise
    throw new UsageError((err instanceof Error ? err.message : String(err)).split('. ')[0] ?? 'invalid arguments');
  }
  if (values.help) return 'help';
  const str = (k: string) => values[k] as string;
  const proxyService = (values['proxy-service'] as string | undefined) ?? env.SWITCHYARD_PROXY_SERVICE;
  if (!proxyService) throw new UsageError('--proxy-service NAMESPACE/NAME is required');
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(proxyService))
    throw new UsageError(`--proxy-service ${JSON.stringify(proxyService)}: must be NAMESPACE/NAME`);
  const leaderElect = str('leader-elect');
  if (leaderElect !== 'true' && leaderElect !== 'false')
    throw new UsageError(`--leader-elect ${JSON.stringify(leaderElect)}: must be true or false`);
  const logLevel = str('log-level');
  if (!LOG_LEVELS.includes(logLevel))
    throw new UsageError(`--log-level ${JSON.stringify(logLevel)}: must be one of ${LOG_LEVELS.join(', ')}`);
  const flags: OperatorFlags = {
    kubeconfig: values.kubeconfig as string | undefined,
    context: values.context as string | undefined,
    namespace: values.namespace as string | undefined,
    proxyService,
    proxyAdminPort: port('proxy-admin-port', str('proxy-admin-port'), true),
    pushTokenFile: values['push-token-file'] as string | undefined,
    pushTimeoutMs: duration('push-timeout', str('push-timeout')),
    resyncMs: duration('resync', str('resync')),
    metricsHost: str('metrics-host'),
    metricsPort: port('metrics-port', str('metrics-port'), false) as number,
    leaderElect: leaderElect === 'true',
    leaseName: str('lease-name'),
    leaseNamespace: values['lease-namespace'] as string | undefined,
    identity: values.identity as string | undefined,
    leaseDurationMs: duration('lease-duration', str('lease-duration')),
    renewDeadlineMs: duration('renew-deadline', str('renew-deadline')),
    retryPeriodMs: duration('retry-period', str('retry-period')),
    logLevel,
  };
  if (flags.leaderElect) {
    if (flags.leaseDurationMs <= flags.renewDeadlineMs)
      throw new UsageError(
        `--lease-duration (${str('lease-duration')}) must be longer than --renew-deadline (${str('renew-deadline')})`,
      );
    if (flags.renewDeadlineMs <= flags.retryPeriodMs)
      throw new UsageError(
        `--renew-deadline (${str('renew-deadline')}) must be longer than --retry-period (${str('retry-period')})`,
      );
  }
  return flags;
}
