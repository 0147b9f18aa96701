/**
 * Test harness: a real PostgreSQL server (Debian's `postgresql` package; `npm test` installs it) in a temp dir on a
 * free loopback port. `initdb` makes a throw-away cluster (trust auth on 127.0.0.1 only, no fsync); the server runs
 * under the process supervisor (test/support/processes.ts), so it never outlives the test process. PostgreSQL
 * refuses to run as root: as root, the cluster belongs to the `postgres` user the package creates.
 * `stop()` kills the server like a crash and `start()` brings it back on the same port with its data, for outage
 * tests; `close()` stops it and removes the temp dir.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { forgetDir, freePort, logTail, type Proc, removeDirOnExit, startProcess, stopProcess } from './processes.js';
import { waitFor } from './wait.js';

export interface TestPostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  /** Kills the server (SIGKILL to its process group, like a crash) and waits for it to be gone. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same data (crash recovery runs first). */
  start(): Promise<void>;
  /** Runs one statement on a fresh connection and returns its rows. */
  query<R extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  close(): Promise<void>;
}

/** The directory of Debian's PostgreSQL server binaries (highest major version), or PG_BIN_DIR. */
export function postgresBinDir(): string | undefined {
  const given = process.env.PG_BIN_DIR;
  if (given) return existsSync(join(given, 'initdb')) ? given : undefined;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : undefined;
}

/** The uid/gid to run the server as: ours, or the `postgres` user's when we are root. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

/** Whether `pid` has exited (no such process, or a zombie). */
function gone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
}

/** Starts a PostgreSQL server on a free 127.0.0.1 port (about 2 s: initdb, then start-up). */
export async function startPostgres(): Promise<TestPostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL not found: install it (apt-get install -y postgresql) or set PG_BIN_DIR');
  const user = serverUser();
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-pg-'));
  removeDirOnExit(dir);
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const asUser = user ? ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups'] : [];
  const [initCmd = '', ...initArgs] = [
    ...asUser,
    join(bin, 'initdb'),
    ...['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'],
  ];
  execFileSync(initCmd, initArgs, { stdio: 'ignore' });
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let proc: Proc | undefined;

  const query = async <R extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]> => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    client.on('error', () => undefined); // a server killed under an open connection
    await client.connect();
    try {
      return (await client.query<R>(sql, params)).rows;
    } finally {
      await client.end().catch(() => undefined);
    }
  };

  const start = async () => {
    const [cmd = '', ...args] = [
      ...asUser,
      join(bin, 'postgres'),
      ...['-D', data, '-p', String(port), '-c', 'unix_socket_directories='],
      ...['-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'],
      ...['-c', 'full_page_writes=off', '-c', 'max_connections=50', '-c', 'shared_buffers=16MB'],
    ];
    const p = startProcess('postgres', cmd, args, dir, { cleanupDir: dir });
    proc = p;
    await waitFor(
      async () => {
        if (p.exitCode !== undefined) throw new Error(`postgres exited (${p.exitCode}):\n${await logTail(p)}`);
        return query('SELECT 1').then(
          () => true,
          () => false,
        );
      },
      30_000,
      'postgres to accept connections',
      50,
    );
  };

  const stop = async () => {
    const p = proc;
    proc = undefined;
    if (!p) return;
    const pidFile = join(data, 'postmaster.pid');
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split('\n')[0]) : undefined;
    await stopProcess(p);
    if (pid === undefined) return;
    // The postmaster is gone once it is no process or a zombie nobody reaped yet (then its pid file must go, or the
    // next start takes it for a live server).
    await waitFor(() => gone(pid), 10_000, 'the killed postmaster to exit', 20);
    rmSync(pidFile, { force: true });
  };

  await start();
  return {
    url,
    port,
    stop,
    start,
    query,
    close: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
      forgetDir(dir);
    },
  };
}
