/**
 * The proxy under fuzz, in its own process (`proxy/src/main.ts` through tsx), so a crash is seen as an exit rather
 * than taking the fuzzer down. Its JSON log is scanned as it is written: line sizes and credentials.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { secretFragments } from './invariants.js';

const ROOT = resolve(import.meta.dirname, '../..');

export interface LogScan {
  bytes: number;
  lines: number;
  longestLine: number;
  /** First credential fragments found in the log (with a bit of context, the fragment itself masked). */
  leaks: string[];
  /** The last lines of stderr (a crash's stack trace). */
  stderrTail: string;
}

export interface ProxyProcess {
  pid: number;
  url: string;
  adminUrl: string;
  port: number;
  /** Exit code / signal once it exited. */
  exit: { code: number | null; signal: string | null } | undefined;
  /** Resolves when the process exits. */
  exited: Promise<void>;
  /** Resident set size in bytes now (Linux /proc), undefined once gone. */
  rss(): number | undefined;
  log: LogScan;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  configFile: string;
  /** Credentials that must never appear in the log. */
  secrets: readonly string[];
  /** Extra flags for proxy/src/main.ts. */
  args?: string[];
  env?: Record<string, string>;
  /** A log line longer than this is reported (bytes). */
  readyTimeoutMs?: number;
}

function rssOf(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Starts the proxy on free loopback ports and resolves once /readyz answers 200. */
export async function spawnProxy(o: SpawnOptions): Promise<ProxyProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'proxy/src/main.ts',
      '--config',
      o.configFile,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--admin-port',
      '0',
      ...(o.args ?? []),
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...o.env } },
  );
  const fragments = o.secrets.flatMap(secretFragments);
  const log: LogScan = { bytes: 0, lines: 0, longestLine: 0, leaks: [], stderrTail: '' };
  let partial = '';
  let ports: { port: number; adminPort: number } | undefined;
  const onLine = (line: string) => {
    log.lines++;
    log.longestLine = Math.max(log.longestLine, Buffer.byteLength(line));
    for (const f of fragments) {
      const at = line.indexOf(f);
      if (at >= 0 && log.leaks.length < 20)
        log.leaks.push(`${line.slice(Math.max(0, at - 80), at)}<${f.slice(0, 4)}…>`.slice(-160));
    }
    if (!ports && line.includes('switchyard proxy listening')) {
      const j = JSON.parse(line) as { port: number; adminPort: number };
      ports = { port: j.port, adminPort: j.adminPort };
    }
  };
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => {
    log.bytes += Buffer.byteLength(d);
    const text = partial + d;
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    // A line that never ends still counts toward the longest line.
    log.longestLine = Math.max(log.longestLine, Buffer.byteLength(partial));
    if (partial.length > 1024 * 1024) partial = partial.slice(-1024);
    for (const l of lines) onLine(l);
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    log.stderrTail = (log.stderrTail + d).slice(-8192);
  });
  let exit: ProxyProcess['exit'];
  const exited = new Promise<void>((r) =>
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      r();
    }),
  );
  const deadline = Date.now() + (o.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (exit) throw new Error(`proxy exited while starting (${exit.code ?? exit.signal}): ${log.stderrTail}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('proxy did not become ready');
    }
    if (ports) {
      const ok = await fetch(`http://127.0.0.1:${ports.adminPort}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const p = ports as { port: number; adminPort: number };
  const pid = child.pid as number;
  return {
    pid,
    port: p.port,
    url: `http://127.0.0.1:${p.port}`,
    adminUrl: `http://127.0.0.1:${p.adminPort}`,
    get exit() {
      return exit;
    },
    exited,
    rss: () => (exit ? undefined : rssOf(pid)),
    log,
    async stop(graceMs = 2000) {
      if (exit) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
}
