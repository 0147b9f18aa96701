/**
 * Test harness (e2e and benchmarks only): runs the real proxy and operator as child processes that never outlive
 * the test process.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..', '..');

export { freePort } from '../../../test/support/processes.js';

/** A child process with its log file. */
export interface Proc {
  child: ChildProcess;
  logPath: string;
  /** Sends a signal and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHook = false;

/** Children must not outlive the test or benchmark process, even when it fails. */
function killChildrenOnExit(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
}

/** Spawns a TypeScript entry point with tsx; stdout+stderr go to `logPath`. */
export function spawnTs(entry: string, args: string[], env: NodeJS.ProcessEnv, logPath: string): Proc {
  killChildrenOnExit();
  const out = createWriteStream(logPath, { flags: 'a' });
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, entry), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const exited = new Promise<void>((r) =>
    child.once('exit', () => {
      live.delete(child);
      r();
    }),
  );
  return {
    child,
    logPath,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** A proxy process and the ports it listens on. */
export interface ProxyProc extends Proc {
  port: number;
  adminPort: number;
}

/**
 * Starts a proxy process with traffic and admin on `host` (ports 0 by default: the proxy picks free ones and
 * logs them) and resolves once it listens.
 */
export function startProxyProcess(o: {
  host: string;
  port?: number;
  adminPort?: number;
  token: string;
  logDir: string;
  name?: string;
  startTimeoutMs?: number;
}): Promise<ProxyProc> {
  const proc = spawnTs(
    'proxy/src/main.ts',
    [
      '--host',
      o.host,
      '--port',
      String(o.port ?? 0),
      '--admin-host',
      o.host,
      '--admin-port',
      String(o.adminPort ?? 0),
      '--drain-seconds',
      '1',
    ],
    { SWITCHYARD_PUSH_TOKEN: o.token, LOG_LEVEL: 'info' },
    join(o.logDir, `${o.name ?? `proxy-${o.host}`}.log`),
  );
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(
      () => fail(new Error(`proxy did not start; see ${proc.logPath}`)),
      o.startTimeoutMs ?? 120_000,
    );
    function fail(err: Error) {
      clearTimeout(timer);
      void proc.kill();
      reject(err);
    }
    const onExit = (code: number | null) => fail(new Error(`proxy exited with ${code}; see ${proc.logPath}`));
    proc.child.once('exit', onExit);
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const line = buffered.split('\n').find((l) => l.includes('switchyard proxy listening'));
      if (!line) return;
      const { port, adminPort } = JSON.parse(line) as { port: number; adminPort: number };
      clearTimeout(timer);
      proc.child.removeListener('exit', onExit);
      proc.child.stdout?.removeListener('data', onData);
      resolve({ ...proc, port, adminPort });
    };
    proc.child.stdout?.on('data', onData);
  });
}

/** Starts an operator process. */
export function startOperatorProcess(o: {
  kubeconfig: string;
  identity: string;
  metricsPort: number;
  proxyService: string;
  proxyAdminPort: number | string;
  token: string;
  logDir: string;
  extraArgs?: string[];
}): Proc {
  return spawnTs(
    'operator/src/main.ts',
    [
      '--kubeconfig',
      o.kubeconfig,
      '--identity',
      o.identity,
      '--metrics-host',
      '127.0.0.1',
      '--metrics-port',
      String(o.metricsPort),
      '--proxy-service',
      o.proxyService,
      '--proxy-admin-port',
      String(o.proxyAdminPort),
      '--lease-namespace',
      o.proxyService.split('/')[0] as string,
      '--lease-duration',
      '4s',
      '--renew-deadline',
      '3s',
      '--retry-period',
      '500ms',
      '--log-level',
      'debug',
      ...(o.extraArgs ?? []),
    ],
    { SWITCHYARD_PUSH_TOKEN: o.token },
    join(o.logDir, `operator-${o.identity}.log`),
  );
}
