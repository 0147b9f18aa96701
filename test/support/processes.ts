/**
 * Child processes of tests (kube-apiserver, etcd, llama-server…) that never outlive the test process: each binary
 * runs under a small bash supervisor in its own process group, and the supervisor kills the binary when its stdin (a
 * pipe from us) closes, so nothing is left behind even when the test worker is killed with SIGKILL. Output goes to a
 * log file.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';

const SUPERVISOR = [
  // background jobs of a non-interactive shell get /dev/null as stdin unless redirected: keep the pipe on fd 3
  'exec 3<&0 </dev/null',
  '"$@" 3<&- &',
  'child=$!',
  // our end of the pipe closed: we are gone, so is the binary (and, for one of them, the instance's temp dir). Node
  // also closes it when this shell exits after the binary did (a crash, a bind failure): then the directory stays,
  // as its owner may start the binary again in it.
  '{ cat <&3 >/dev/null;',
  '  if kill -KILL "$child" 2>/dev/null && [ -n "$SY_CLEANUP_DIR" ]; then sleep 1; rm -rf "$SY_CLEANUP_DIR"; fi; } &',
  'exec 3<&-',
  'wait "$child"',
].join('\n');

/** A supervised child process. */
export interface Proc {
  name: string;
  child: ChildProcess;
  /** Its stdout and stderr. */
  logPath: string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** undefined while it runs. */
  exitCode: number | null | undefined;
}

export interface StartProcessOptions {
  /** Directory removed by the supervisor once we are gone (a crashed test leaves no temp dir behind). */
  cleanupDir?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
}

const live = new Set<Proc>();
const liveDirs = new Set<string>();

function killGroup(proc: Proc): void {
  if (proc.child.pid === undefined) return;
  try {
    process.kill(-proc.child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
  proc.child.stdin?.destroy();
}

let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const proc of live) killGroup(proc);
    for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
  });
}

/** Removes `dir` when this process exits, unless `forgetDir` was called first. */
export function removeDirOnExit(dir: string): void {
  installExitHook();
  liveDirs.add(dir);
}

/** `dir` was removed already: nothing to do at exit. */
export function forgetDir(dir: string): void {
  liveDirs.delete(dir);
}

/** Starts `binary` under a supervisor, with cwd `dir` and its output in `dir/<name>.log`. */
export function startProcess(
  name: string,
  binary: string,
  args: string[],
  dir: string,
  opts: StartProcessOptions = {},
): Proc {
  installExitHook();
  const logPath = join(dir, `${name}.log`);
  const fd = openSync(logPath, 'a');
  // --norc: with a socket as stdin (how Node hands out pipes) bash takes itself for a remote shell and reads
  // ~/.bashrc, whose tools (e.g. `pyenv init` rehashing under a lock) must not run, stall or be killed here.
  const child = spawn('bash', ['--norc', '--noprofile', '-c', SUPERVISOR, name, binary, ...args], {
    stdio: ['pipe', fd, fd],
    detached: true, // own process group, so stopProcess() kills the binary and the supervisor together
    cwd: dir,
    env: { ...process.env, ...opts.env, SY_CLEANUP_DIR: opts.cleanupDir ?? '' },
  });
  closeSync(fd);
  child.unref();
  const proc: Proc = {
    name,
    child,
    logPath,
    exitCode: undefined,
    exited: new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        proc.exitCode = signal ? null : code;
        live.delete(proc);
        resolve(code);
      });
      child.on('error', () => resolve(null));
    }),
  };
  // The pipe must not keep the event loop alive; it only signals our death to the supervisor.
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  live.add(proc);
  return proc;
}

/** Kills the process (SIGKILL to its group) and waits up to 5 s for it to be gone. Idempotent. */
export async function stopProcess(proc: Proc): Promise<void> {
  killGroup(proc); // also when the binary already exited: its supervisor's stdin watcher is still there
  if (proc.exitCode !== undefined) return;
  await Promise.race([proc.exited, new Promise((r) => setTimeout(r, 5000))]);
}

/** The last `lines` lines of the process's log. */
export async function logTail(proc: Proc, lines = 40): Promise<string> {
  try {
    const text = await readFile(proc.logPath, 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** A free TCP port on 127.0.0.1 (free when asked; the caller retries on a bind race). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}
