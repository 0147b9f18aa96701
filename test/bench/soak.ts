/**
 * Soak (issue 13): the compiled proxy under hours-shaped traffic — chat, streams, Anthropic and Ollama clients, clients
 * that abort mid-stream, clients that stop reading for a while, a pool whose faulty replica cycles through 503s,
 * resets, hangs, slow first bytes and mid-stream errors, and a configuration push every few seconds (PUT /config, as
 * the operator does). Every sample prints the proxy's RSS, V8 heap, event-loop delay (p99 and max over the sample,
 * from the proxy's own metrics), open file descriptors and p99 next to a same-run baseline: the smallest
 * sensible pass-through (test/bench/passthrough.ts) carrying the same plain requests to the same simulator. At the end
 * it compares the first and the last window (RSS flat = within 10 %). Loopback only; it stops by itself.
 *
 * Usage: npm run bench -- soak [--minutes 30] [--warmup-minutes 1] [--rate 40] [--sample-seconds 30]
 *        [--push-seconds 15] [--window-minutes 5]
 * The warm-up (same traffic, samples printed but left out of the comparison) lets the JIT and the heap settle.
 * Simulators run in a child process (this file with --role sims), the proxy and the baseline in their own.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { Agent, request } from 'undici';
import { parseManifests } from '../../shared/src/manifests/parse.js';
import { translate } from '../../shared/src/translate/index.js';
import { Rng } from '../sim/hostile/rng.js';
import { type FaultSpec, startSimulator } from '../sim/index.js';
import { poolManifests } from '../support/manifests.js';
import { freePort, killAll, quantile, waitHttp } from './lib.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    rate: { type: 'string', default: '40' },
    'sample-seconds': { type: 'string', default: '30' },
    'push-seconds': { type: 'string', default: '15' },
    'window-minutes': { type: 'string', default: '5' },
    'warmup-minutes': { type: 'string', default: '1' },
    role: { type: 'string' },
  },
  allowPositionals: true,
});

/** Simulators in their own process; the faulty one changes its fault every 20 s. */
async function runSims(): Promise<void> {
  const sim = (flavour: 'vllm' | 'anthropic' | 'ollama', model: string) =>
    startSimulator({ flavour, models: [model], ttftMs: 10, itlMs: 2, outputTokens: 24, recordLimit: 0 });
  const sims = {
    a: await sim('vllm', 'sim-model'),
    b: await sim('vllm', 'sim-model'),
    faulty: await sim('vllm', 'sim-model'),
    claude: await sim('anthropic', 'claude'),
    llama: await sim('ollama', 'llama'),
  };
  const faults: (FaultSpec | null)[] = [
    { status: 503, rate: 0.3 },
    { resetAfterChunks: 3, rate: 0.3 },
    { hang: true, rate: 0.1 },
    { slowFirstByteMs: 400, rate: 0.5 },
    { midStreamError: true, afterChunks: 2, rate: 0.3 },
    null,
  ];
  let i = 0;
  setInterval(() => sims.faulty.setFaults(faults[i++ % faults.length] ?? null), 20_000).unref();
  sims.faulty.setFaults(faults[i++] ?? null);
  process.send?.(Object.fromEntries(Object.entries(sims).map(([k, s]) => [k, s.url])));
  process.on('disconnect', () => process.exit(0));
}

type Urls = Record<'a' | 'b' | 'faulty' | 'claude' | 'llama', string>;

/** Two configurations pushed in turn: the faulty replica joins and leaves the mixed pool, weights flip. */
function snapshot(urls: Urls, variant: number): unknown {
  const timeouts = '  timeouts: { firstByte: 2s, idle: 2s, total: 20s }';
  const text = [
    poolManifests({
      name: 'healthy',
      model: 'soak',
      urls: [`${urls.a}/v1`, `${urls.b}/v1`],
      upstreamName: 'sim-model',
      backendSpec: `  weight: ${variant % 2 === 0 ? 1 : 3}\n${timeouts}`,
    }),
    poolManifests({
      name: 'mixed',
      model: 'soak-mixed',
      urls: variant % 2 === 0 ? [`${urls.faulty}/v1`, `${urls.b}/v1`] : [`${urls.faulty}/v1`],
      upstreamName: 'sim-model',
      backendSpec: timeouts,
      poolSpec: '  outlierDetection: { consecutiveFailures: 3, baseEjectionTime: 5s }',
    }),
    poolManifests({
      name: 'claude',
      model: 'soak-claude',
      provider: 'anthropic',
      urls: [urls.claude],
      upstreamName: 'claude',
    }),
    poolManifests({
      name: 'llama',
      model: 'soak-llama',
      provider: 'ollama',
      urls: [urls.llama],
      upstreamName: 'llama',
    }),
  ].join('\n---\n');
  return translate(parseManifests(text)).config;
}

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Open file descriptors of a process (sockets included). */
function openFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return Number.NaN;
  }
}

/**
 * V8 heap (MiB) and event-loop delay (ms, p99 and max) from the proxy's /metrics. prom-client resets its delay
 * histogram at every scrape, so with one scrape per sample the delay figures cover that sample.
 */
async function scrape(adminUrl: string): Promise<{ heap: number; lagP99: number; lagMax: number }> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name}\\s+([\\d.e+-]+)`, 'm').exec(text)?.[1] ?? Number.NaN);
  return {
    heap: value('nodejs_heap_size_used_bytes') / 2 ** 20,
    lagP99: value('nodejs_eventloop_lag_p99_seconds') * 1000,
    lagMax: value('nodejs_eventloop_lag_max_seconds') * 1000,
  };
}

type Kind = 'chat' | 'stream' | 'anthropic' | 'ollama' | 'abort' | 'slow' | 'faulty';
/** Plain requests (latency and errors measured); the others exercise the proxy and must only not break it. */
const PLAIN: Kind[] = ['chat', 'stream', 'anthropic', 'ollama'];
const MIX: [Kind, number][] = [
  ['chat', 30],
  ['stream', 25],
  ['anthropic', 8],
  ['ollama', 7],
  ['abort', 10],
  ['slow', 5],
  ['faulty', 15],
];

function pick(r: number): Kind {
  let at = r * MIX.reduce((a, [, w]) => a + w, 0);
  for (const [k, w] of MIX) {
    at -= w;
    if (at < 0) return k;
  }
  return 'chat';
}

const agent = new Agent({ connections: 256, keepAliveTimeout: 10_000 });
const user = (text: string) => [{ role: 'user', content: text }];

/**
 * Sends one request of `kind` (`model` replaces the public model: the baseline talks to the simulator's own name);
 * resolves with status (0: transport error) and latency to the last byte.
 */
async function send(base: string, kind: Kind, r: number, model = 'soak'): Promise<{ status: number; ms: number }> {
  const t0 = performance.now();
  const long = '[sim output-tokens=400] tell me a long story';
  const [path, body]: [string, Record<string, unknown>] =
    kind === 'anthropic'
      ? ['/v1/messages', { model: 'soak-claude', max_tokens: 64, stream: true, messages: user('hi') }]
      : kind === 'ollama'
        ? ['/api/chat', { model: 'soak-llama', messages: user('hi') }]
        : kind === 'faulty'
          ? ['/v1/chat/completions', { model: 'soak-mixed', stream: r < 0.5, messages: user('hi') }]
          : [
              '/v1/chat/completions',
              {
                model,
                stream: kind !== 'chat',
                messages: user(kind === 'abort' || kind === 'slow' ? long : `hello ${Math.floor(r * 1000)}`),
              },
            ];
  const ac = new AbortController();
  try {
    const res = await request(`${base}${path}`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify(body),
      signal: ac.signal,
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    if (kind === 'abort') {
      for await (const _ of res.body) break;
      ac.abort();
    } else if (kind === 'slow') {
      const it = res.body[Symbol.asyncIterator]();
      await it.next();
      await new Promise((resolve) => setTimeout(resolve, 1000 + r * 2000));
      for (let n = await it.next(); !n.done; n = await it.next());
    } else await res.body.dump({ limit: Number.POSITIVE_INFINITY });
    return { status: res.statusCode, ms: performance.now() - t0 };
  } catch {
    return { status: 0, ms: performance.now() - t0 };
  }
}

interface Sample {
  at: number;
  rps: number;
  rss: number;
  heap: number;
  lagP99: number;
  lagMax: number;
  fds: number;
  p99: number;
  errors: number;
  other: Record<string, number>;
  baseRss: number;
  baseP99: number;
}

async function main(): Promise<void> {
  const minutes = Number(values.minutes);
  const rate = Number(values.rate);
  const sampleMs = Number(values['sample-seconds']) * 1000;
  const pushMs = Number(values['push-seconds']) * 1000;
  const windowMs = Math.min(Number(values['window-minutes']), minutes / 3) * 60_000;
  const children: ChildProcess[] = [];
  const stopAll = () => killAll(children);
  process.on('exit', stopAll);
  process.on('SIGINT', () => process.exit(130));

  const sims = spawn(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, '--role', 'sims'], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.push(sims);
  const urls = await new Promise<Urls>((resolve) => sims.once('message', (m) => resolve(m as Urls)));

  process.stderr.write('soak: compiling the proxy (npm run build)…\n');
  await promisify(execFile)(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json']);
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-soak-'));
  await writeFile(join(dir, 'token'), 'soak-push-token');
  const [port, adminPort, basePort] = [await freePort(), await freePort(), await freePort()];
  const proxy = spawn(
    process.execPath,
    [
      'dist/proxy/src/main.js',
      ...['--host', '127.0.0.1', '--port', String(port), '--admin-port', String(adminPort)],
      ...['--push-token-file', join(dir, 'token'), '--access-log=false', '--log-level', 'warn'],
    ],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NODE_ENV: 'production' } },
  );
  children.push(proxy);
  const base = spawn(process.execPath, ['--import', 'tsx', 'test/bench/passthrough.ts', String(basePort), urls.a], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  children.push(base);
  const proxyUrl = `http://127.0.0.1:${port}`;
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const baseUrl = `http://127.0.0.1:${basePort}`;
  await waitHttp(`${adminUrl}/healthz`);
  await new Promise((resolve) => base.once('message', resolve));
  let pushes = 0;
  let pushFailures = 0;
  const push = async () => {
    const res = await fetch(`${adminUrl}/config`, {
      method: 'PUT',
      headers: { authorization: 'Bearer soak-push-token', 'content-type': 'application/json' },
      body: JSON.stringify(snapshot(urls, pushes++)),
    }).catch(() => undefined);
    if (res?.status !== 200) pushFailures++;
  };
  await push();
  for (let i = 0; i < 100 && (await fetch(`${adminUrl}/readyz`)).status !== 200; i++)
    await new Promise((r) => setTimeout(r, 100));

  const warmupMs = Number(values['warmup-minutes']) * 60_000;
  const started = performance.now();
  const end = started + warmupMs + minutes * 60_000;
  const samples: Sample[] = [];
  let window = { lat: [] as number[], base: [] as number[], count: 0, errors: 0, other: {} as Record<string, number> };
  const inflight = new Set<Promise<unknown>>();
  const rng = new Rng(1);
  // Open loop: requests leave at their scheduled times whatever the answers do.
  const tick = setInterval(() => {
    if (performance.now() >= end) return;
    for (let n = 0; n < rate / 20; n++) {
      const u = rng.float();
      const kind = pick(u);
      const p = send(proxyUrl, kind, u).then(({ status, ms }) => {
        window.count++;
        if (PLAIN.includes(kind)) {
          if (status >= 200 && status < 300) window.lat.push(ms);
          else {
            window.errors++;
            window.other[`${kind}:${status}`] = (window.other[`${kind}:${status}`] ?? 0) + 1;
          }
        } else {
          const key = `${kind}:${status}`;
          window.other[key] = (window.other[key] ?? 0) + 1;
        }
      });
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
      if (kind === 'chat' || kind === 'stream') {
        const q = send(baseUrl, kind, u, 'sim-model').then(({ status, ms }) => {
          if (status === 200) window.base.push(ms);
        });
        inflight.add(q);
        void q.finally(() => inflight.delete(q));
      }
    }
  }, 50);
  const pusher = setInterval(() => void push(), pushMs);
  process.stdout.write(
    `soak: ${minutes} min after a ${warmupMs / 60_000} min warm-up, ${rate} req/s (${MIX.map(([k, w]) => `${k} ${w}%`).join(', ')}), a push every ${pushMs / 1000} s\n` +
      ' time | req/s | proxy RSS MiB | heap MiB | loop delay p99/max ms | fds | p99 ms | errors | baseline RSS MiB | baseline p99 ms | other outcomes\n',
  );
  while (performance.now() < end) {
    await new Promise((r) => setTimeout(r, Math.min(sampleMs, end - performance.now())));
    const w = window;
    window = { lat: [], base: [], count: 0, errors: 0, other: {} };
    const scraped = await scrape(adminUrl).catch(() => ({ heap: Number.NaN, lagP99: Number.NaN, lagMax: Number.NaN }));
    const s: Sample = {
      at: (performance.now() - started) / 1000,
      rps: w.count / (sampleMs / 1000),
      rss: rssMb(proxy.pid as number),
      ...scraped,
      fds: openFds(proxy.pid as number),
      p99: quantile(w.lat, 0.99),
      errors: w.errors,
      other: w.other,
      baseRss: rssMb(base.pid as number),
      baseP99: quantile(w.base, 0.99),
    };
    samples.push(s);
    const mmss = `${Math.floor(s.at / 60)}:${String(Math.floor(s.at % 60)).padStart(2, '0')}`;
    const other = Object.entries(s.other)
      .sort()
      .map(([k, n]) => `${k}=${n}`)
      .join(' ');
    process.stdout.write(
      `${mmss.padStart(5)} | ${s.rps.toFixed(0).padStart(5)} | ${s.rss.toFixed(0).padStart(13)} | ${s.heap.toFixed(0).padStart(8)} | ` +
        `${`${s.lagP99.toFixed(1)}/${s.lagMax.toFixed(1)}`.padStart(21)} | ${String(s.fds).padStart(3)} | ` +
        `${s.p99.toFixed(1).padStart(6)} | ${String(s.errors).padStart(6)} | ${s.baseRss.toFixed(0).padStart(16)} | ` +
        `${s.baseP99.toFixed(1).padStart(15)} | ${other}${s.at * 1000 <= warmupMs ? ' (warm-up)' : ''}\n`,
    );
  }
  clearInterval(tick);
  clearInterval(pusher);
  await Promise.race([Promise.allSettled([...inflight]), new Promise((r) => setTimeout(r, 30_000))]);
  const inWindow = (from: number, to: number) => samples.filter((s) => s.at * 1000 > from && s.at * 1000 <= to);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const total = samples.at(-1)?.at ?? 0;
  const first = inWindow(warmupMs, warmupMs + windowMs);
  const last = inWindow(total * 1000 - windowMs, total * 1000);
  const change = (f: (s: Sample) => number) => {
    const a = mean(first.map(f));
    const b = mean(last.map(f));
    return { a, b, pct: ((b - a) / a) * 100 };
  };
  const rss = change((s) => s.rss);
  const heap = change((s) => s.heap);
  const p99 = change((s) => s.p99);
  const lag = change((s) => s.lagP99);
  const fds = change((s) => s.fds);
  const baseP99 = change((s) => s.baseP99);
  const inflightNow = Number(
    /^switchyard_in_flight_requests\s+([\d.]+)/m.exec(await (await fetch(`${adminUrl}/metrics`)).text())?.[1] ?? NaN,
  );
  const w = `${(windowMs / 60_000).toFixed(1)} min`;
  process.stdout.write(
    `\nfirst ${w} vs last ${w}: proxy RSS ${rss.a.toFixed(0)} → ${rss.b.toFixed(0)} MiB (${rss.pct >= 0 ? '+' : ''}${rss.pct.toFixed(1)} %, ${Math.abs(rss.pct) <= 10 ? 'flat' : 'NOT flat'}), ` +
      `heap ${heap.a.toFixed(0)} → ${heap.b.toFixed(0)} MiB, event-loop delay p99 ${lag.a.toFixed(1)} → ${lag.b.toFixed(1)} ms ` +
      `(worst sample ${Math.max(...samples.map((s) => s.lagMax)).toFixed(0)} ms), open fds ${fds.a.toFixed(0)} → ${fds.b.toFixed(0)}, ` +
      `p99 ${p99.a.toFixed(1)} → ${p99.b.toFixed(1)} ms ` +
      `(baseline p99 ${baseP99.a.toFixed(1)} → ${baseP99.b.toFixed(1)} ms)\n` +
      `plain requests failed: ${samples.reduce((a, s) => a + s.errors, 0)}; pushes ${pushes} (${pushFailures} refused); ` +
      `in flight at the end: ${inflightNow}; proxy alive: ${proxy.exitCode === null ? 'yes' : `no (exit ${proxy.exitCode})`}\n`,
  );
  process.exit(0);
}

if (values.role === 'sims') await runSims();
else await main();
