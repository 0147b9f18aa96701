import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseFlags, UsageError } from './flags.js';

const base = ['--proxy-service', 'sys/proxy'];
const error = (argv: string[]) => {
  try {
    parseFlags(argv);
  } catch (err) {
    if (err instanceof UsageError) return err.message;
    throw err;
  }
  return 'no error';
};

describe('operator flags', () => {
  it('parses durations with units, ports, names and the defaults', () => {
    const f = parseFlags([...base, '--push-timeout', '1m30s', '--proxy-admin-port', 'admin', '--resync', '500ms']);
    expect(f).toMatchObject({
      proxyService: 'sys/proxy',
      proxyAdminPort: 'admin',
      pushTimeoutMs: 90_000,
      resyncMs: 500,
      metricsPort: 9090,
      leaderElect: true,
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
    });
    expect(parseFlags(['--help'])).toBe('help');
  });

  it.each([
    [['--push-timeout', '5'], '--push-timeout "5": a duration needs a unit'],
    [['--resync', 'soon'], '--resync "soon": a duration needs a unit'],
    [['--resync', '0s'], '--resync 0s: must be longer than 0'],
    [['--metrics-port', '70000'], '--metrics-port "70000": must be a port number 1-65535'],
    [['--proxy-admin-port', 'Not A Port'], 'must be a port number 1-65535 or a port name'],
    [['--leader-elect', 'yes'], '--leader-elect "yes": must be true or false'],
    [['--log-level', 'loud'], '--log-level "loud": must be one of'],
    [['--lease-duration', '5s'], '--lease-duration (5s) must be longer than --renew-deadline (10s)'],
    [['--retry-period', '10s'], '--renew-deadline (10s) must be longer than --retry-period (10s)'],
    [['--bogus', 'x'], "Unknown option '--bogus'"],
    [['stray'], "Unexpected argument 'stray'"],
  ])('refuses %j with a message', (extra, message) => {
    expect(error([...base, ...extra])).toContain(message);
  });

  it('requires the proxy Service as NAMESPACE/NAME', () => {
    expect(error([])).toBe('--proxy-service NAMESPACE/NAME is required');
    expect(error(['--proxy-service', 'proxy'])).toContain('must be NAMESPACE/NAME');
    expect(parseFlags([], { SWITCHYARD_PROXY_SERVICE: 'a/b' })).toMatchObject({ proxyService: 'a/b' });
  });

  it('the process prints the reason and the usage, no stack trace, and exits 2', () => {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'main.ts'), '--proxy-service', 'a/b', '--push-timeout', '5'],
      { encoding: 'utf8', timeout: 60_000, env: { ...process.env, SWITCHYARD_PUSH_TOKEN: 't' } },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('error: --push-timeout "5": a duration needs a unit');
    expect(r.stderr).toContain('Usage: switchyard-operator');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const unknown = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'main.ts'), '--nope'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("error: Unknown option '--nope'");
    expect(unknown.stderr).not.toMatch(/\n\s+at /);
  });
});
