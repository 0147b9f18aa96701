/**
 * Benchmark plumbing: child processes on loopback, simulator replicas, readiness polling, wrk runs and percentile
 * maths.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { SimStats, SimulatorOptions } from '../sim/index.js';
import { freePort } from '../support/processes.js';

const run = promisify(execFile);

export { freePort };

/** Spawns a TypeScript entry point with tsx; stderr is inherited so failures are visible. */
export function spawnTs(entry: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, ...env },
  });
}

/**
 * Compiles the repository (`npm run build` → dist/) and spawns a compiled entry point, as the container images run
 * it: tsx would add its own per-function overhead to the figures.
 */
export async function spawnBuilt(
  entry: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<ChildProcess> {
  await run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json']);
  return spawn(process.execPath, [entry, ...args], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, NODE_ENV: 'production', ...env },
  });
}

/** Resolves once `url` answers (any status) or throws after `timeoutMs`. */
export async function waitHttp(url: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${url} did not come up within ${timeoutMs} ms`);
}

export interface WrkResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

const toMs = (v: string, unit: string) => Number(v) * (unit === 'us' ? 0.001 : unit === 's' ? 1000 : 1);

/** Runs wrk against `url` POSTing `body`; parses req/s and the latency distribution. */
export async function wrk(
  url: string,
  body: string,
  opts: { connections: number; seconds: number; threads?: number },
): Promise<WrkResult> {
  const script = `wrk.method="POST"\nwrk.body=[[${body}]]\nwrk.headers["Content-Type"]="application/json"\n`;
  const { writeFile, mkdtemp } = await import('node:fs/promises');
  const dir = await mkdtemp('/tmp/switchyard-wrk-');
  await writeFile(`${dir}/post.lua`, script);
  const { stdout } = await run('wrk', [
    `-t${opts.threads ?? 1}`,
    `-c${opts.connections}`,
    `-d${opts.seconds}s`,
    '--latency',
    '-s',
    `${dir}/post.lua`,
    url,
  ]);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? 0);
  const pct = (p: string) => {
    const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)`).exec(stdout);
    return m ? toMs(m[1] as string, m[2] as string) : Number.NaN;
  };
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0);
  const sockErr = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const errors = non2xx + (sockErr ? sockErr.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
  return { rps, p50Ms: pct('50'), p99Ms: pct('99'), errors };
}

/** The q-quantile (0..1) of `values`. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
}

/** Kills children on exit. */
export function killAll(children: ChildProcess[]): void {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
}

/**
 * Writes standalone manifests for one backend (`provider`, endpoint `url`, `model`) and a pool, and starts the compiled
 * proxy on them (access log off). Returns its URL and process; the caller kills it.
 */
export async function startBuiltProxy(o: {
  provider: string;
  url: string;
  model: string;
  backendSpec?: string;
}): Promise<{ url: string; child: ChildProcess }> {
  const dir = await mkdtemp('/tmp/switchyard-bench-');
  await writeFile(
    `${dir}/bench.yaml`,
    `apiVersion: switchyard.dev/v1alpha1
kind: LLMBackend
metadata: { name: upstream }
spec:
  provider: ${o.provider}
  endpoints: [{ url: "${o.url}" }]
  models: [{ name: ${o.model} }]
${o.backendSpec ?? ''}
---
apiVersion: switchyard.dev/v1alpha1
kind: LLMPool
metadata: { name: bench }
spec: { model: ${o.model}, backendRefs: [{ name: upstream }] }
`,
  );
  const port = await freePort();
  const args = ['--config', `${dir}/bench.yaml`, '--host', '127.0.0.1', '--port', String(port)];
  args.push('--admin-port', String(await freePort()), '--log-level', 'warn');
  const child = await spawnBuilt('dist/proxy/src/main.js', args, { SWITCHYARD_ACCESS_LOG: 'false' });
  return { url: `http://127.0.0.1:${port}`, child };
}

/** Children of spawnJsonChild still running: killed when this process exits, however it exits. */
const liveChildren = new Set<ChildProcess>();
process.on('exit', () => killAll([...liveChildren]));

/**
 * Runs `script` (a benchmark in a child mode) under tsx and resolves with the one JSON line it prints when ready;
 * its stderr is inherited. The caller kills it (at the latest it dies with this process).
 */
export function spawnJsonChild<T>(script: string, args: string[]): Promise<{ child: ChildProcess; out: T }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) resolve({ child, out: JSON.parse(buf.slice(0, buf.indexOf('\n'))) as T });
    });
    child.once('exit', (code) => reject(new Error(`${script} ${args.join(' ')} exited with ${code}`)));
  });
}

/** A benchmark's child mode: prints `ready` as one JSON line and serves until SIGTERM. */
export async function serveUntilTerminated(ready: unknown): Promise<never> {
  process.stdout.write(`${JSON.stringify(ready)}\n`);
  process.on('SIGTERM', () => process.exit(0));
  return new Promise<never>(() => {});
}

/**
 * A benchmark's child mode serving simulator replicas: starts `count` simulators with `options` in this process,
 * prints their URLs as the ready line and serves until SIGTERM.
 */
export async function serveSimulators(count: number, options: SimulatorOptions): Promise<never> {
  const { startSimulator } = await import('../sim/index.js');
  const sims = await Promise.all(Array.from({ length: count }, () => startSimulator(options)));
  return serveUntilTerminated(sims.map((s) => s.url));
}

/** The counters of the simulators at `urls` (`GET /_sim/stats`), in the same order. */
export function simStats(urls: string[]): Promise<SimStats[]> {
  return Promise.all(urls.map(async (u) => (await (await fetch(`${u}/_sim/stats`)).json()) as SimStats));
}
