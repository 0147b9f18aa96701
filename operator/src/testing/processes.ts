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

/** Spawns a TypeScript entry point with tsx; stdout+stderr go to `logPath`. */
export function spawnTs(entry: string, args: string[], env: NodeJS.ProcessEnv, logPath: string): Proc {
  const out = createWriteStream(logPath, { flags: 'a' });
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, entry), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    logPath,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** Starts a proxy process with traffic and admin on `host`. */
export function startProxyProcess(o: {
  host: string;
  port: number;
  adminPort: number;
  token: string;
  logDir: string;
  name?: string;
}): Proc {
  return spawnTs(
    'proxy/src/main.ts',
    [
      '--host',
      o.host,
      '--port',
      String(o.port),
      '--admin-host',
      o.host,
      '--admin-port',
      String(o.adminPort),
      '--drain-seconds',
      '1',
    ],
    { SWITCHYARD_PUSH_TOKEN: o.token, LOG_LEVEL: 'info' },
    join(o.logDir, `${o.name ?? `proxy-${o.host}-${o.port}`}.log`),
  );
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
