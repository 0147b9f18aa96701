/**
 * Hostile-client and hostile-upstream figures (issue 13): the compiled proxy in its own process (as in the image),
 * its resident memory sampled from /proc, under two attacks.
 *  - partial-bodies: C connections without an API key (keys are required) each declare a 9 MB body, send all of it
 *    but the last byte, and stop. Prints peak RSS, how each connection ended (503 from the unauthenticated byte budget,
 *    408 from the body timeout) and when the last one was closed.
 *  - endless-line: an upstream that answers every stream with one SSE line that never ends; S clients keep asking for
 *    streams while the admin /healthz is polled every 20 ms. Prints peak RSS and /healthz latency, next to the same
 *    /healthz figures with no attack. The upstream and the clients run in their own processes (this file, with
 *    `--role`), so the probe measures the proxy and not the attackers' event loop.
 * Usage: npm run bench -- hardening [--connections 100] [--body-mb 9] [--streams 16] [--seconds 20]
 *        [--body-timeout-seconds 30] [--max-wait-seconds 60 (connections still open then are counted as such)]
 *        [--proxy-dir DIR (a checkout with node_modules, to measure another version)]
 */
import type { ChildProcess } from 'node:child_process';
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { routePolicy } from '../e2e/governance-fixtures.js';
import { poolManifests } from '../support/manifests.js';
import { freePort, quantile, waitHttp } from './lib.js';

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '100' },
    'body-mb': { type: 'string', default: '9' },
    streams: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '20' },
    'body-timeout-seconds': { type: 'string', default: '30' },
    'proxy-dir': { type: 'string' },
    'max-wait-seconds': { type: 'string', default: '60' },
    role: { type: 'string' },
    url: { type: 'string' },
    port: { type: 'string' },
  },
  allowPositionals: true,
});
const connections = Number(values.connections);
const bodyBytes = Math.round(Number(values['body-mb']) * 1_000_000);
const streams = Number(values.streams);
const seconds = Number(values.seconds);
const bodyTimeoutSeconds = Number(values['body-timeout-seconds']);
const proxyDir = resolve(values['proxy-dir'] ?? '.');
const maxWaitMs = Number(values['max-wait-seconds']) * 1000;

const run = promisify(execFile);

/** Resident set size of `pid` in MB, from /proc. */
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** Samples the RSS of `pid` every 50 ms until stopped; returns the peak. */
function sampleRss(pid: number): { stop(): number } {
  let peak = rssMb(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, rssMb(pid));
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, rssMb(pid));
    },
  };
}

/** An upstream that answers a stream with `data: ` and then an endless line (as fast as the proxy reads). */
function serveEndlessLine(port: number): Server {
  const piece = 'x'.repeat(64 * 1024);
  const server = createServer((req, res) => {
    req.resume();
    if (req.url === '/health') {
      res.end('{}');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: {"choices":[{"index":0,"delta":{"content":"');
    let open = true;
    res.on('close', () => {
      open = false;
    });
    const pump = () => {
      while (open && res.write(piece));
      if (open) res.once('drain', pump);
    };
    pump();
  });
  server.listen(port, '127.0.0.1', () => process.send?.('ready'));
  return server;
}

/** Runs this file as `role` in a child process; resolves once it reported ready. */
async function spawnRole(role: string, args: string[]): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', new URL(import.meta.url).pathname, '--role', role, ...args],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  await new Promise<void>((ready, fail) => {
    child.once('message', () => ready());
    child.once('exit', (code) => fail(new Error(`${role} exited with ${code}`)));
  });
  return child;
}

/** One pool `m` over the hostile upstream, behind a policy that requires an API key. */
const manifests = (upstreamUrl: string) =>
  [
    'apiVersion: v1\nkind: Secret\nmetadata: { name: keys }\nstringData: { team: "sk-bench-team-key-0123456789" }',
    poolManifests({
      name: 'hostile',
      model: 'm',
      urls: [`${upstreamUrl}/v1`],
      backendSpec: '  healthCheck: { enabled: false }',
    }),
    routePolicy(
      'keys-required',
      `  rules: [{ match: { model: { value: m } } }]
  tenants: [{ name: team, apiKeys: [{ name: keys, key: team }] }]`,
    ),
  ].join('\n---\n');

async function startProxy(upstreamUrl: string): Promise<{ child: ChildProcess; url: string; adminUrl: string }> {
  await run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { cwd: proxyDir });
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-bench-'));
  await writeFile(join(dir, 'manifests.yaml'), manifests(upstreamUrl));
  const [port, adminPort] = [await freePort(), await freePort()];
  const child = spawn(
    process.execPath,
    [
      join(proxyDir, 'dist/proxy/src/main.js'),
      '--config',
      join(dir, 'manifests.yaml'),
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--admin-port',
      String(adminPort),
      '--access-log=false',
      '--log-level',
      'warn',
      ...(values['proxy-dir'] ? [] : ['--body-timeout-seconds', String(bodyTimeoutSeconds)]),
    ],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NODE_ENV: 'production' } },
  );
  const url = `http://127.0.0.1:${port}`;
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  await waitHttp(`${adminUrl}/healthz`);
  for (let i = 0; i < 100 && (await fetch(`${adminUrl}/readyz`)).status !== 200; i++)
    await new Promise((r) => setTimeout(r, 100));
  return { child, url, adminUrl };
}

/** One connection sending a `bodyBytes` body but its last byte; resolves with how and when the proxy ended it. */
function partialBody(port: number, started: number): Promise<{ status: number; closedAfterMs: number }> {
  return new Promise((resolveEnd) => {
    const socket = connect(port, '127.0.0.1');
    let head = '';
    const chunk = Buffer.alloc(64 * 1024, 0x78);
    let sent = 0;
    const finish = () => {
      clearTimeout(giveUp);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      resolveEnd({ status, closedAfterMs: Date.now() - started });
    };
    // A proxy that never closes the connection: counted as still open after --max-wait-seconds.
    const giveUp = setTimeout(() => {
      socket.removeAllListeners('close');
      socket.destroy();
      resolveEnd({ status: -1, closedAfterMs: Number.POSITIVE_INFINITY });
    }, maxWaitMs);
    socket.on('data', (d) => {
      if (head.length < 64) head += d.toString('latin1');
    });
    socket.on('close', finish);
    socket.on('error', () => undefined);
    socket.on('connect', () => {
      socket.write(
        `POST /v1/chat/completions HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: ${bodyBytes}\r\n\r\n`,
      );
      const pump = () => {
        while (sent < bodyBytes - 1) {
          const n = Math.min(chunk.length, bodyBytes - 1 - sent);
          sent += n;
          if (!socket.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
            socket.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
  });
}

async function withUpstream(scenario: (upstreamUrl: string) => Promise<void>): Promise<void> {
  const port = await freePort();
  const upstream = await spawnRole('upstream', ['--port', String(port)]);
  try {
    await scenario(`http://127.0.0.1:${port}`);
  } finally {
    upstream.kill('SIGKILL');
  }
}

async function partialBodies(upstreamUrl: string): Promise<void> {
  const proxy = await startProxy(upstreamUrl);
  const pid = proxy.child.pid as number;
  const baseline = rssMb(pid);
  const rss = sampleRss(pid);
  const started = Date.now();
  const { port } = new URL(proxy.url);
  const ends = await Promise.all(Array.from({ length: connections }, () => partialBody(Number(port), started)));
  const peak = rss.stop();
  const byStatus = new Map<number, number[]>();
  for (const e of ends) byStatus.set(e.status, [...(byStatus.get(e.status) ?? []), e.closedAfterMs]);
  console.log(
    `partial-bodies: ${connections} connections × ${(bodyBytes / 1e6).toFixed(1)} MB bodies without their last byte`,
  );
  console.log(`  proxy RSS: ${baseline.toFixed(0)} MB before, peak ${peak.toFixed(0)} MB`);
  for (const [status, times] of [...byStatus].sort((a, b) => a[0] - b[0]))
    if (status === -1) console.log(`  ${times.length} still open after ${maxWaitMs / 1000} s`);
    else
      console.log(
        `  ${times.length} ended with ${status || 'no answer'}: closed after ${(Math.min(...times) / 1000).toFixed(1)}–${(Math.max(...times) / 1000).toFixed(1)} s`,
      );
  proxy.child.kill('SIGKILL');
}

/** Polls `url` every 20 ms for `ms`; latencies in ms. */
async function pollLatencies(url: string, ms: number): Promise<number[]> {
  const out: number[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const t = performance.now();
    await (await fetch(url)).text();
    out.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 20));
  }
  return out;
}

/**
 * The proxy's own event-loop delay since the last scrape (prom-client's `nodejs_eventloop_lag_*`, reset by each
 * scrape): tells a blocked event loop from a process that waited for a CPU on a busy machine.
 */
const LAG_RESOLUTION_MS = 10;

async function eventLoopLag(adminUrl: string): Promise<string> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  // prom-client samples every 10 ms and reports the time between samples: 10 ms means no delay at all.
  const value = (name: string) =>
    Math.max(0, Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1]) * 1000 - LAG_RESOLUTION_MS);
  return `p50 ${value('nodejs_eventloop_lag_p50_seconds').toFixed(1)} ms, p99 ${value('nodejs_eventloop_lag_p99_seconds').toFixed(1)} ms, max ${value('nodejs_eventloop_lag_max_seconds').toFixed(1)} ms`;
}

const fmt = (l: number[]) =>
  `p50 ${quantile(l, 0.5).toFixed(2)} ms, p99 ${quantile(l, 0.99).toFixed(2)} ms, max ${Math.max(...l).toFixed(2)} ms (${l.length} probes)`;

/** The attacking clients: `streams` loops asking for streams until killed; prints the statuses they got. */
async function streamer(url: string): Promise<void> {
  const statuses = new Map<number, number>();
  const client = async () => {
    for (;;) {
      try {
        const res = await fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench-team-key-0123456789' },
          body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
          signal: AbortSignal.timeout(10_000),
        });
        await res.arrayBuffer();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      } catch {
        statuses.set(0, (statuses.get(0) ?? 0) + 1);
      }
    }
  };
  process.on('SIGTERM', () => {
    console.log(`  client answers: ${[...statuses].map(([st, n]) => `${n}× ${st || 'no answer in 10 s'}`).join(', ')}`);
    process.exit(0);
  });
  for (let i = 0; i < streams; i++) void client();
  process.send?.('ready');
}

async function endlessLine(upstreamUrl: string): Promise<void> {
  const proxy = await startProxy(upstreamUrl);
  const pid = proxy.child.pid as number;
  const quiet = await pollLatencies(`${proxy.adminUrl}/healthz`, 3000);
  const quietLag = await eventLoopLag(proxy.adminUrl);
  const baseline = rssMb(pid);
  const rss = sampleRss(pid);
  const attackers = await spawnRole('streamer', ['--url', proxy.url, '--streams', String(streams)]);
  const loaded = await pollLatencies(`${proxy.adminUrl}/healthz`, seconds * 1000);
  const peak = rss.stop();
  const lag = await eventLoopLag(proxy.adminUrl);
  console.log(`endless-line: ${streams} clients streaming from an upstream whose SSE line never ends, ${seconds} s`);
  console.log(`  proxy RSS: ${baseline.toFixed(0)} MB before, peak ${peak.toFixed(0)} MB`);
  console.log(`  /healthz without attack: ${fmt(quiet)}`);
  console.log(`  /healthz during attack:  ${fmt(loaded)}`);
  console.log(`  proxy event-loop delay (its own measure): quiet ${quietLag}; during attack ${lag}`);
  const exited = new Promise((r) => attackers.once('exit', r));
  attackers.kill('SIGTERM');
  await exited;
  proxy.child.kill('SIGKILL');
}

if (values.role === 'upstream') serveEndlessLine(Number(values.port));
else if (values.role === 'streamer') await streamer(values.url ?? '');
else {
  if (connections > 0) await withUpstream(partialBodies);
  await withUpstream(endlessLine);
}
