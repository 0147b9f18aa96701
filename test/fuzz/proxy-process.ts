/**
 * The proxy under fuzz, in its own process (`proxy/src/main.ts` through tsx, supervised so it never outlives the
 * fuzzer), so a crash is seen as an exit rather than taking the fuzzer down. Its log is followed as it is written:
 * line sizes and credentials are checked on every line.
 */
import { open, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { type Proc, startProcess, stopProcess } from '../support/processes.js';
import { secretFragments } from './invariants.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** What was found in the proxy's log so far. */
export interface LogScan {
  bytes: number;
  lines: number;
  longestLine: number;
  /** First credential fragments found in the log (with a bit of context, the fragment itself masked). */
  leaks: string[];
  /** The last lines of output (a crash's stack trace). */
  tail: string;
}

/** A running proxy process. */
export interface ProxyProcess {
  pid: number;
  url: string;
  adminUrl: string;
  port: number;
  /** Exit code once it exited (null: killed by a signal). */
  exit: { code: number | null } | undefined;
  /** Resolves when the process exits. */
  exited: Promise<void>;
  /** Resident set size in bytes now (Linux /proc), undefined once gone. */
  rss(): Promise<number | undefined>;
  /**
   * CPU time (ms, 10 ms ticks) its main thread — the event loop — has used so far, undefined once gone. Work that
   * holds the loop uses it; waiting for a core on a loaded machine does not.
   */
  loopCpuMs(): Promise<number | undefined>;
  log: LogScan;
  /** Stops it (SIGKILL to its process group) and reads the rest of its log. */
  stop(): Promise<void>;
}

/** How to start the proxy process. */
export interface SpawnOptions {
  configFile: string;
  /** Credentials that must never appear in the log. */
  secrets: readonly string[];
  /** Extra flags for proxy/src/main.ts. */
  args?: string[];
  readyTimeoutMs?: number;
  /** V8's old-space limit (MiB), as a pod's memory limit would size it; unset: Node's default for this machine. */
  heapMb?: number;
}

/** Follows a growing log file, one complete line at a time. */
class LogFollower {
  private offset = 0;
  private partial = '';

  constructor(
    private readonly path: string,
    private readonly onLine: (line: string) => void,
    private readonly scan: LogScan,
  ) {}

  async poll(): Promise<void> {
    const fh = await open(this.path, 'r').catch(() => undefined);
    if (!fh) return;
    try {
      const buf = Buffer.alloc(1024 * 1024);
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, this.offset);
        if (bytesRead === 0) break;
        this.offset += bytesRead;
        this.scan.bytes += bytesRead;
        const lines = (this.partial + buf.subarray(0, bytesRead).toString('utf8')).split('\n');
        this.partial = lines.pop() ?? '';
        // A line that never ends still counts toward the longest line; only its tail is kept.
        this.scan.longestLine = Math.max(this.scan.longestLine, Buffer.byteLength(this.partial));
        if (this.partial.length > 1024 * 1024) this.partial = this.partial.slice(-4096);
        for (const l of lines) this.onLine(l);
      }
    } finally {
      await fh.close();
    }
  }
}

let started = 0;

/** Starts the proxy on free loopback ports and resolves once /readyz answers 200. */
export async function spawnProxy(o: SpawnOptions): Promise<ProxyProcess> {
  const tsx = import.meta.resolve('tsx');
  const proc: Proc = startProcess(
    `proxy-${++started}`,
    process.execPath,
    [
      '--import',
      tsx,
      join(ROOT, 'proxy/src/main.ts'),
      ...['--config', o.configFile, ...'--host 127.0.0.1 --port 0 --admin-port 0'.split(' ')],
      ...(o.args ?? []),
    ],
    dirname(o.configFile),
    o.heapMb ? { env: { NODE_OPTIONS: `--max-old-space-size=${o.heapMb}` } } : {},
  );
  const fragments = o.secrets.flatMap(secretFragments);
  const log: LogScan = { bytes: 0, lines: 0, longestLine: 0, leaks: [], tail: '' };
  let ports: { port: number; adminPort: number } | undefined;
  const follower = new LogFollower(
    proc.logPath,
    (line) => {
      log.lines++;
      log.longestLine = Math.max(log.longestLine, Buffer.byteLength(line));
      log.tail = `${log.tail}${line.slice(0, 2000)}\n`.slice(-8192);
      for (const f of fragments) {
        const at = line.indexOf(f);
        if (at >= 0 && log.leaks.length < 20)
          log.leaks.push(`${line.slice(Math.max(0, at - 80), at)}<${f.slice(0, 4)}…>`.slice(-160));
      }
      if (!ports && line.includes('switchyard proxy listening')) {
        const j = JSON.parse(line) as { port: number; adminPort: number };
        ports = { port: j.port, adminPort: j.adminPort };
      }
    },
    log,
  );
  let exit: ProxyProcess['exit'];
  let following = true;
  const exited = proc.exited.then(async (code) => {
    exit = { code };
    await follower.poll();
  });
  const follow = (async () => {
    while (following && !exit) {
      await follower.poll();
      await new Promise((r) => setTimeout(r, ports ? 250 : 25));
    }
  })();
  const deadline = Date.now() + (o.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (exit) throw new Error(`proxy exited while starting (${exit.code}): ${log.tail}`);
    if (Date.now() > deadline) {
      await stopProcess(proc);
      throw new Error(`proxy did not become ready: ${log.tail}`);
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
  let nodePid: number | undefined;
  return {
    pid: proc.child.pid as number,
    port: p.port,
    url: `http://127.0.0.1:${p.port}`,
    adminUrl: `http://127.0.0.1:${p.adminPort}`,
    get exit() {
      return exit;
    },
    exited,
    rss: async () => {
      if (proc.exitCode !== undefined) return undefined;
      nodePid ??= await childRunning(proc, 'proxy/src/main.ts');
      return nodePid === undefined ? undefined : rssOf(nodePid);
    },
    loopCpuMs: async () => {
      if (proc.exitCode !== undefined) return undefined;
      nodePid ??= await childRunning(proc, 'proxy/src/main.ts');
      return nodePid === undefined ? undefined : mainThreadCpuMs(nodePid);
    },
    log,
    async stop() {
      following = false;
      await stopProcess(proc);
      await follow;
      await follower.poll();
    },
  };
}

/** The pid of the supervisor's child whose command line contains `needle`. */
async function childRunning(proc: Proc, needle: string): Promise<number | undefined> {
  const pid = proc.child.pid;
  const children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  for (const c of children.trim().split(/\s+/).filter(Boolean)) {
    const cmd = await readFile(`/proc/${c}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(needle)) return Number(c);
  }
  return undefined;
}

/** Resident set size of `pid` in bytes (Linux /proc). */
async function rssOf(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : undefined;
}

/** User + system CPU time of `pid`'s main thread in ms (Linux /proc; clock ticks of 10 ms). */
async function mainThreadCpuMs(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/task/${pid}/stat`, 'utf8').catch(() => '');
  // Fields after the command name (which may contain spaces), from field 3 on: utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(ticks) ? ticks * 10 : undefined;
}
