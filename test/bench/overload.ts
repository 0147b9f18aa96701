/**
 * Overload benchmark (issue 20, docs/priority.md): a pool of simulated vLLM replicas behind the real proxy, each
 * capped at `--slots` requests; its capacity is measured first (closed loop), then an open-loop Poisson mix of four
 * tenants is offered at `--factor` × that capacity — ops (critical), web and bulk (standard, weights 3 and 1, each
 * offering the same rate) and batch (sheddable) — once with one FIFO queue (the same-run baseline: discipline fifo),
 * once with priority classes and fair queueing, and once with a critical reserve as well. Prints, per run, critical
 * time to first token (p50 / p99, and p99 against the unloaded value measured alone at the same rate), the share of
 * the standard tenants' completions web got (its weight's share is 75 %), and what each class got (answered,
 * refused, codes). Standard requests may wait 10 s, so the queue's size (64), not timeouts, bounds the backlog.
 * The replicas run in their own process, the compiled proxy in another, the client here, all on 127.0.0.1.
 * Usage: npm run bench -- overload [--seconds N] [--factor F] [--replicas R] [--slots S] [--ttft MS] [--itl MS]
 */
import type { ChildProcess } from 'node:child_process';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { parseArgs, promisify } from 'node:util';
import { Agent, request } from 'undici';
import { keysSecret, poolManifests, priorityMixTenants } from '../support/manifests.js';
import { waitFor } from '../support/wait.js';
import { freePort, killAll, quantile, waitHttp } from './lib.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    factor: { type: 'string', default: '3' },
    replicas: { type: 'string', default: '4' },
    slots: { type: 'string', default: '2' },
    ttft: { type: 'string', default: '100' },
    itl: { type: 'string', default: '10' },
    tokens: { type: 'string', default: '8' },
  },
  allowPositionals: true,
});
const seconds = Number(values.seconds);
const factor = Number(values.factor);
const replicas = Number(values.replicas);
const slots = Number(values.slots);
const tokens = Number(values.tokens);

type Tenant = 'ops' | 'web' | 'bulk' | 'batch';
const KEYS: Record<Tenant, string> = {
  ops: 'sk-bench-ops-0000000001',
  web: 'sk-bench-web-0000000002',
  bulk: 'sk-bench-bulk-000000003',
  batch: 'sk-bench-batch-00000004',
};
/** Share of the offered load per tenant. */
const MIX: Record<Tenant, number> = { ops: 0.03, web: 0.4, bulk: 0.4, batch: 0.17 };

const children: ChildProcess[] = [];
process.on('exit', () => killAll(children));

/** Starts `replicas` simulated vLLM servers in one child process; their URLs. */
async function startReplicas(): Promise<string[]> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/sim/cli.ts', '--port', '0', '--replicas', String(replicas), '--model', 'm'].concat([
      '--ttft-ms',
      String(values.ttft),
      '--itl-ms',
      String(values.itl),
    ]),
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(child);
  child.stdout.setEncoding('utf8');
  const urls: string[] = [];
  for await (const line of createInterface({ input: child.stdout })) {
    const m = /^sim \S+ \S+ (\S+)/.exec(line);
    if (m) urls.push(m[1] as string);
    if (line.trim() === 'ready') break;
  }
  return urls;
}

/** The proxy in its own process on manifests for the pool and the four tenants; its traffic URL. */
async function startProxy(urls: string[], scheduling: string): Promise<{ url: string; child: ChildProcess }> {
  const dir = await mkdtemp('/tmp/switchyard-bench-overload-');
  const pool = poolManifests({
    name: 'replicas',
    poolName: 'm',
    model: 'm',
    urls: urls.map((u) => `${u}/v1`),
    backendSpec: `  maxConcurrency: ${slots}\n  healthCheck: { interval: 1s }\n  metrics: { enabled: false }`,
    poolSpec: `  retry: { attempts: 1 }\n  scheduling: ${scheduling}`,
  });
  const policy = `apiVersion: switchyard.dev/v1alpha1
kind: RoutePolicy
metadata: { name: tenants }
spec:
  rules: [{ match: { model: { value: m } } }]
  tenants:
${priorityMixTenants}
`;
  await writeFile(`${dir}/bench.yaml`, [keysSecret(KEYS), pool, policy].join('---\n'));
  const [port, admin] = [await freePort(), await freePort()];
  const args = ['--config', `${dir}/bench.yaml`, '--host', '127.0.0.1', '--port', String(port)];
  args.push('--admin-port', String(admin), '--log-level', 'warn');
  const child = spawn(process.execPath, ['dist/proxy/src/main.js', ...args], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, NODE_ENV: 'production', SWITCHYARD_ACCESS_LOG: 'false' },
  });
  children.push(child);
  await waitHttp(`http://127.0.0.1:${admin}/config/endpoints`);
  await waitFor(
    async () => {
      const text = await (await fetch(`http://127.0.0.1:${admin}/config/endpoints`)).text();
      return text.split('"healthy"').length > urls.length;
    },
    30_000,
    'every replica healthy',
  );
  return { url: `http://127.0.0.1:${port}`, child };
}

interface Result {
  tenant: Tenant;
  status: number;
  code: string | undefined;
  sentAt: number;
  ttftMs: number | undefined;
}

const agent = new Agent({ connections: 2048, keepAliveTimeout: 10_000 });

/** One streamed chat completion of `tenant`; time to its first body chunk. */
async function one(url: string, tenant: Tenant): Promise<Result> {
  const sentAt = performance.now();
  try {
    const res = await request(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS[tenant]}` },
      body: JSON.stringify({
        model: 'm',
        stream: true,
        max_tokens: tokens,
        messages: [{ role: 'user', content: `${tenant} ${sentAt}` }],
      }),
      dispatcher: agent,
    });
    let ttftMs: number | undefined;
    let text = '';
    for await (const chunk of res.body) {
      ttftMs ??= performance.now() - sentAt;
      if (res.statusCode !== 200) text += String(chunk);
    }
    const code =
      res.statusCode === 200 ? undefined : ((JSON.parse(text) as { error?: { code?: string } }).error?.code ?? '?');
    return { tenant, status: res.statusCode, code, sentAt, ttftMs: res.statusCode === 200 ? ttftMs : undefined };
  } catch {
    return { tenant, status: 0, code: 'transport', sentAt, ttftMs: undefined };
  }
}

/** Open-loop Poisson arrivals of each tenant at `rates` (requests/s) for `durationS`; every result. */
async function offer(url: string, rates: Partial<Record<Tenant, number>>, durationS: number): Promise<Result[]> {
  const pending: Array<Promise<Result>> = [];
  const start = performance.now();
  await Promise.all(
    Object.entries(rates).map(async ([tenant, rate]) => {
      let at = 0;
      for (;;) {
        at += (-Math.log(1 - Math.random()) / (rate as number)) * 1000;
        if (at > durationS * 1000) return;
        const delay = start + at - performance.now();
        if (delay > 0) await new Promise((r) => setTimeout(r, delay));
        pending.push(one(url, tenant as Tenant));
      }
    }),
  );
  return Promise.all(pending);
}

/** Completions per second of `n` closed-loop clients (the pool's capacity when `n` exceeds its slots). */
async function capacity(url: string, n: number, durationS: number): Promise<number> {
  let done = 0;
  const end = performance.now() + durationS * 1000;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (performance.now() < end) if ((await one(url, 'web')).status === 200) done++;
    }),
  );
  return done / durationS;
}

const FAIR_QUEUE = '{ queue: { maxSize: 64, timeout: 10s }';
const SCENARIOS = [
  { name: 'fifo (baseline)', scheduling: '{ queue: { maxSize: 64, timeout: 10s, discipline: fifo } }' },
  { name: 'fair', scheduling: `${FAIR_QUEUE} }` },
  { name: 'fair + reserve 0.5', scheduling: `${FAIR_QUEUE}, overload: { criticalReserve: 0.5 } }` },
];

// The proxy runs compiled, as the container image runs it (tsx would add its own overhead to the figures).
await promisify(execFile)(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json']);
const urls = await startReplicas();
const first = await startProxy(urls, SCENARIOS[1]?.scheduling as string);
await capacity(first.url, replicas * slots * 2, 2); // warm-up (JIT), discarded
const cap = await capacity(first.url, replicas * slots * 2, 5);
const offered = cap * factor;
const rates = Object.fromEntries(Object.entries(MIX).map(([t, share]) => [t, share * offered])) as Record<
  Tenant,
  number
>;
const unloaded = (await offer(first.url, { ops: rates.ops }, seconds)).flatMap((r) => r.ttftMs ?? []);
first.child.kill('SIGTERM');
const unloadedP99 = quantile(unloaded, 0.99);

const rows: string[][] = [];
for (const s of SCENARIOS) {
  const proxy = await startProxy(urls, s.scheduling);
  await offer(proxy.url, rates, 2); // warm-up and queues filled, discarded
  const results = await offer(proxy.url, rates, seconds);
  proxy.child.kill('SIGTERM');
  const of = (t: Tenant) => results.filter((r) => r.tenant === t);
  const ok = (t: Tenant) => of(t).filter((r) => r.status === 200).length;
  const ttft = of('ops').flatMap((r) => r.ttftMs ?? []);
  const refused = (t: Tenant) => {
    const codes = new Map<string, number>();
    for (const r of of(t)) if (r.status !== 200) codes.set(r.code ?? '?', (codes.get(r.code ?? '?') ?? 0) + 1);
    return [...codes].map(([c, n]) => `${n} ${c}`).join(', ') || '0';
  };
  const pct = (t: Tenant) => `${((100 * ok(t)) / Math.max(1, of(t).length)).toFixed(0)} %`;
  rows.push([
    s.name,
    quantile(ttft, 0.5).toFixed(0),
    quantile(ttft, 0.99).toFixed(0),
    (quantile(ttft, 0.99) / unloadedP99).toFixed(2),
    pct('ops'),
    `${((100 * ok('web')) / Math.max(1, ok('web') + ok('bulk'))).toFixed(1)} %`,
    `${pct('web')} / ${pct('bulk')}`,
    pct('batch'),
    `${refused('web')}; ${refused('bulk')}`,
    refused('batch'),
  ]);
}

const header = [
  'run',
  'crit ttft p50',
  'p99 ms',
  'p99/unloaded',
  'crit ok',
  'web share',
  'web/bulk ok',
  'batch ok',
  'standard refused (web; bulk)',
  'sheddable refused',
];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
const line = (c: string[]) =>
  c.map((x, i) => (i === 0 ? x.padEnd(widths[i] ?? 0) : x.padStart(widths[i] ?? 0))).join('  ');
console.log(
  `overload: ${replicas} replicas × ${slots} slots (ttft ${values.ttft} ms, itl ${values.itl} ms, ${tokens} tokens), ` +
    `capacity ${cap.toFixed(1)} req/s, offered ${offered.toFixed(1)} req/s (${factor}×: ops critical 3 %, web ` +
    `standard w3 40 %, bulk standard w1 40 %, batch sheddable 17 %), ${seconds} s per run`,
);
console.log(
  `unloaded critical ttft (ops alone at ${rates.ops.toFixed(1)} req/s): p50 ${quantile(unloaded, 0.5).toFixed(0)} ms, p99 ${unloadedP99.toFixed(0)} ms`,
);
console.log(line(header));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const r of rows) console.log(line(r));
await agent.close();
killAll(children);
process.exit(0);
