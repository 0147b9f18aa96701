/**
 * Test harness: a real redis-server (Debian's package: `apt-get install -y redis-server`) on a free loopback port
 * with a temp dir and no persistence (`--save '' --appendonly no`). `stop()`/`start()` take it down and bring it
 * back on the same port, for Redis-outage tests; `close()` stops it and removes the temp dir.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './processes.js';
import { waitFor } from './wait.js';

export interface TestRedis {
  url: string;
  port: number;
  /** Stops the server (SIGKILL, like a crash) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port (empty: nothing is persisted). */
  start(): Promise<void>;
  /** Sends one command (inline protocol) and returns the raw reply. */
  command(line: string): Promise<string>;
  close(): Promise<void>;
}

const BINARY = process.env.REDIS_SERVER ?? 'redis-server';

/** Whether redis-server can be run here. */
export function redisServerAvailable(): boolean {
  try {
    execFileSync(BINARY, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function send(port: number, line: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ port, host: '127.0.0.1' });
    let data = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error('redis command timed out'));
    }, timeoutMs);
    sock.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on('data', (d) => {
      data += d.toString('utf8');
      if (data.endsWith('\r\n')) {
        clearTimeout(timer);
        sock.end();
        resolve(data);
      }
    });
    sock.write(`${line}\r\n`);
  });
}

/** Starts redis-server on a free 127.0.0.1 port. */
export async function startRedis(): Promise<TestRedis> {
  if (!redisServerAvailable())
    throw new Error(`${BINARY} not found: install it (apt-get install -y redis-server) or set REDIS_SERVER`);
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-redis-'));
  const port = await freePort();
  let proc: ChildProcess | undefined;

  const start = async () => {
    const child = spawn(
      BINARY,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: 'ignore' },
    );
    proc = child;
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
        return (await send(port, 'PING', 500).catch(() => '')).startsWith('+PONG'); // '' while not listening yet
      },
      10_000,
      'redis-server to answer PING',
      25,
    );
  };

  const stop = async () => {
    const child = proc;
    proc = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  };

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop,
    start,
    command: (line) => send(port, line),
    close: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
