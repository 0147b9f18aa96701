/**
 * `npm run fuzz -- [--cases N] [--upstream-cases M] [--seed S] [--tier client|upstream|both] [--case I[,J…]]
 * [--concurrency C] [--only NAME[,…]] [--rss-limit-mb L] [--reports R] [--json FILE]`
 *
 * Runs the client-side mutation fuzzer and the upstream-answer fuzzer against a proxy process and prints a summary:
 * cases, crashes, empty 2xx, unexplained 5xx, per-class counts, and every failing case with its seed, index and
 * request. The same seed gives the same cases; `--case` re-runs single cases. Exits 1 when any invariant broke.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { clientCase } from './client-cases.js';
import { formatSummary, type RunSummary, runFuzz, totalDefects } from './runner.js';
import { upstreamCase } from './upstream-cases.js';
import { startWorld } from './world.js';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '2000' },
    'upstream-cases': { type: 'string' },
    seed: { type: 'string' },
    tier: { type: 'string', default: 'both' },
    case: { type: 'string' },
    concurrency: { type: 'string' },
    only: { type: 'string' },
    'rss-limit-mb': { type: 'string', default: '512' },
    json: { type: 'string' },
    reports: { type: 'string', default: '3' },
    help: { type: 'boolean', short: 'h' },
  },
  strict: true,
});

if (values.help) {
  process.stdout.write(
    'npm run fuzz -- [--cases N] [--upstream-cases M] [--seed S] [--tier client|upstream|both] [--case I,J]\n' +
      '                [--concurrency C] [--only CLASS,…] [--rss-limit-mb L] [--reports R] [--json FILE]\n',
  );
  process.exit(0);
}

const int = (name: string, v: string | undefined, fallback: number) => {
  const n = v === undefined ? fallback : Number(v);
  if (!Number.isSafeInteger(n) || n < 0) {
    process.stderr.write(`--${name} must be a whole number\n`);
    process.exit(2);
  }
  return n;
};
const tier = values.tier;
if (tier !== 'client' && tier !== 'upstream' && tier !== 'both') {
  process.stderr.write('--tier is client, upstream or both\n');
  process.exit(2);
}
const seed = int('seed', values.seed, Math.floor(Date.now() % 1_000_000));
const cases = int('cases', values.cases, 2000);
const upstreamCases = int('upstream-cases', values['upstream-cases'], cases);
const indices = values.case?.split(',').map((s) => int('case', s, 0));
const only = values.only?.split(',').filter(Boolean);
const rssLimitBytes = int('rss-limit-mb', values['rss-limit-mb'], 512) * 2 ** 20;
const command = 'npm run fuzz --';

const world = await startWorld();
const TIERS = {
  client: {
    cases,
    concurrency: 16,
    makeCase: (s: number, i: number) =>
      clientCase(s, i, { ...(only ? { only } : {}), bodyTimeoutMs: world.bodyTimeoutMs }),
  },
  upstream: { cases: upstreamCases, concurrency: 32, makeCase: (s: number, i: number) => upstreamCase(s, i, only) },
} as const;

const summaries: RunSummary[] = [];
let lastPrint = 0;
const progress = (label: string) => (done: number, total: number) => {
  if (Date.now() - lastPrint < 5000 && done !== total) return;
  lastPrint = Date.now();
  process.stderr.write(`${label}: ${done}/${total} cases\n`);
};
try {
  process.stderr.write(`fuzzing with seed ${seed} (proxy ${world.proxy.url})\n`);
  for (const name of ['client', 'upstream'] as const) {
    if (tier !== 'both' && tier !== name) continue;
    const t = TIERS[name];
    summaries.push(
      await runFuzz(world, {
        tier: name,
        seed,
        cases: t.cases,
        ...(indices ? { indices } : {}),
        makeCase: t.makeCase,
        concurrency: int('concurrency', values.concurrency, t.concurrency),
        rssLimitBytes,
        reportsPerClass: int('reports', values.reports, 3),
        progress: progress(name),
      }),
    );
  }
} finally {
  await world.close();
}
for (const s of summaries) process.stdout.write(`${formatSummary(s, `${command} --tier ${s.tier}`)}\n\n`);
if (values.json) await writeFile(values.json, JSON.stringify(summaries, null, 2));
process.exit(summaries.some((s) => totalDefects(s) > 0) ? 1 : 0);
