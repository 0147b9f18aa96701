/**
 * Test harness (e2e and benchmarks only): runs the real proxy and operator as child processes, and tiny
 * OpenAI-compatible upstream replicas that answer with their own name, on 127.0.0.x loopback addresses.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..', '..');

/** A free TCP port (bound on 127.0.0.1 and released; reused on other loopback addresses). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

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

/** A minimal OpenAI-compatible upstream replica answering with its name (vLLM-like /health and /metrics). */
export function startUpstream(host: string, port: number, name: string): Promise<http.Server & { hits: () => number }> {
  let hits = 0;
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const json = (status: number, v: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(v));
      if (path === '/health') return json(200, {});
      if (path === '/metrics') return res.writeHead(200, { 'content-type': 'text/plain' }).end('');
      if (path === '/v1/models') return json(200, { object: 'list', data: [] });
      if (path === '/v1/chat/completions' && req.method === 'POST') {
        hits++;
        const model = (JSON.parse(body || '{}') as { model?: string }).model ?? 'unknown';
        return json(200, {
          id: `chatcmpl-${name}-${hits}`,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model,
          choices: [{ index: 0, message: { role: 'assistant', content: `replica=${name}` }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
        });
      }
      json(404, { error: { message: `no route ${path}` } });
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(Object.assign(server, { hits: () => hits })));
  });
}
