/**
 * Runs fuzz cases against the proxy with bounded concurrency and checks the invariants: per answer (see
 * invariants.ts), and for the process — it stays up (a crash restarts it and blames the cases in flight, then each
 * suspect is replayed alone to find the culprit), its RSS stays under a limit, its admin port keeps answering,
 * its in-flight gauges return to 0, its metrics stay finite and non-negative, and its log neither leaks a credential
 * nor writes giant lines.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parsePrometheusText } from '../support/prom-text.js';
import { describeRequest, type FuzzCase, type Tier } from './case.js';
import { exchange } from './http-client.js';
import { checkAnswer, type Defect } from './invariants.js';
import type { FuzzWorld } from './world.js';

/** One fuzz run: which cases, how many at once, and the process-wide bounds. */
export interface RunOptions {
  tier: Tier;
  seed: number;
  /** Case indices run: 0 … cases-1, or exactly `indices`. */
  cases: number;
  indices?: number[];
  makeCase(seed: number, index: number): FuzzCase;
  concurrency: number;
  /**
   * Cases whose request is over 1 MiB run at most this many at once (default 2): a parsed body takes several times
   * its size (a 10 MiB one of small messages about 80 MiB while it is validated and translated), so more of them at
   * once measure the body limit times the concurrency, not a leak — four at once took the proxy, its heap sized for
   * the chart's 512 Mi, to 466–530 MiB on a loaded machine.
   */
  bigCases?: number;
  /** RSS above this is a defect (bytes). */
  rssLimitBytes: number;
  /** A log line longer than this is a defect (bytes). */
  maxLogLineBytes?: number;
  /** The proxy's event loop working this long (ms) while an admin `/healthz` waited is a stall. */
  stallMs?: number;
  /** Failing cases reported in full (with a reproduction) per defect class. */
  reportsPerClass?: number;
  /** Replay crash suspects alone to find which case crashed the proxy. */
  attributeCrashes?: boolean;
  progress?(done: number, total: number): void;
}

/** One failing case, ready to print. */
export interface Failure {
  defect: Defect;
  caseIndex: number;
  summary: string;
  reproduction: string;
  /** The smallest variant of the case that still breaks the same invariant (when it could be shrunk). */
  minimal?: string;
}

/** A death of the proxy process during a run. */
export interface CrashReport {
  /** Cases in flight when the process died. */
  suspects: number[];
  /** The case(s) that crash a fresh proxy on their own (when attribution ran). */
  culprits: number[];
  exit: string;
  stderrTail: string;
}

/** What a run found. */
export interface RunSummary {
  tier: Tier;
  seed: number;
  cases: number;
  durationMs: number;
  crashes: CrashReport[];
  /** Defect class → count. */
  defects: Record<string, number>;
  /** Case class → cases run and cases with a defect. */
  classes: Record<string, { cases: number; failing: number }>;
  /** Status → count (0 = no answer). */
  statuses: Record<string, number>;
  /** Status → the first answer body seen with it (cut), to tell what a status stands for. */
  statusSamples: Record<string, string>;
  failures: Failure[];
  maxRssBytes: number;
  /** RSS every 10 s: [seconds since the start, bytes]. */
  rssTimeline: [number, number][];
  maxHealthzMs: number;
  /**
   * The longest stall of the proxy's own making: per /healthz probe, the smaller of its latency and the CPU time the
   * proxy's event loop used meanwhile (a probe that waited for a core of a loaded machine is not a stall).
   */
  maxStallMs: number;
  /** The fuzzer's own worst event-loop delay: timing figures mean little when it is large (a loaded machine). */
  driverLagMaxMs: number;
  inFlightSettled: boolean;
  /** Cases a crash cut off twice (not judged). */
  crashAffected: number;
  /** Process-wide defects (memory, stall, gauges, metrics, log). */
  global: Defect[];
}

/** Unexplained 5xx (and every other defect) counted together, for the headline. */
export function unexplained5xx(s: RunSummary): number {
  return Object.entries(s.defects)
    .filter(([k]) => k.startsWith('unexplained-'))
    .reduce((a, [, n]) => a + n, 0);
}

/** Total number of defects of any class, process-wide ones and crashes included. */
export function totalDefects(s: RunSummary): number {
  return Object.values(s.defects).reduce((a, b) => a + b, 0) + s.global.length + s.crashes.length;
}

async function metricsDefects(adminUrl: string): Promise<{ defects: Defect[]; inFlight: number }> {
  const res = await fetch(`${adminUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  let families: ReturnType<typeof parsePrometheusText>;
  try {
    families = parsePrometheusText(text);
  } catch (e) {
    return { defects: [{ cls: 'metrics-unparseable', detail: String(e).slice(0, 300) }], inFlight: 0 };
  }
  const defects: Defect[] = [];
  let inFlight = 0;
  for (const f of families.values()) {
    if (!f.name.startsWith('switchyard_')) continue;
    for (const s of f.samples) {
      if (f.name.endsWith('in_flight_requests')) inFlight += s.value;
      const bad = !Number.isFinite(s.value) || (f.type === 'counter' && s.value < 0);
      if (bad && defects.length < 10)
        defects.push({ cls: 'metric-not-finite', detail: `${s.name}${JSON.stringify(s.labels)} = ${s.value}` });
    }
  }
  return { defects, inFlight };
}

/** Evaluates one finished exchange against the invariants. */
function evaluate(world: FuzzWorld, c: FuzzCase, res: Awaited<ReturnType<typeof exchange>>): Defect[] {
  const records = c.tier === 'upstream' ? world.hostile.take(c.id) : [];
  const expect = records[0]?.expect;
  const defects: Defect[] = [];
  const partial = c.behaviour.kind === 'partial-abort';
  const headEnd = c.request.indexOf('\r\n\r\n') + 4;
  const headSent =
    c.behaviour.kind === 'partial-wait' || c.behaviour.kind === 'partial-abort' ? c.behaviour.bytes >= headEnd : true;
  // A slow sender the machine's load made slower than the read timeout is rightly answered 408, by Node itself
  // (bare) while its head is incomplete.
  const tooSlow = c.behaviour.kind === 'slow-send' && res.sendMs >= world.bodyTimeoutMs * 0.8;
  if (res.timedOut) defects.push({ cls: 'hang', detail: `no complete answer within ${c.deadlineMs} ms` });
  else if (!res.aborted && !partial && res.responses.length === 0)
    defects.push(
      !res.sent && res.answerBytes === 0
        ? // The server answered and closed while the body was still coming: Linux drops the unread answer on the
          // reset that follows (reported apart: the refusal happened, the client could not read it).
          { cls: 'answer-lost-to-reset', detail: 'connection reset while the request was still being sent' }
        : { cls: 'no-answer', detail: `connection ended after ${res.received} bytes without an answer` },
    );
  if (res.aborted || partial) return defects;
  for (const [i, r] of res.responses.entries())
    defects.push(
      ...checkAnswer(
        {
          method: c.heads[i] ? 'HEAD' : c.method,
          path: i === 0 ? c.path : (c.morePaths?.[i - 1] ?? c.path),
          // (a pipelined request behind a partial send is the one cut: its head may be incomplete too)
          httpMalformed: c.httpMalformed || tooSlow || (i === 0 ? !headSent : c.behaviour.kind.startsWith('partial')),
          upstreamMayFail: c.tier === 'upstream' && expect !== undefined && expect !== 'ok',
          ...(expect ? { expect } : {}),
          secrets: world.secrets,
        },
        r,
      ),
    );
  const refused = res.responses.find((r) => r.status < 200 || r.status >= 300);
  if (c.control && refused)
    defects.push({ cls: 'valid-request-failed', detail: `${refused.status}: ${refused.body.subarray(0, 300)}` });
  return defects;
}

/** Runs `o.cases` cases (or `o.indices`) and returns what broke. */
export async function runFuzz(world: FuzzWorld, o: RunOptions): Promise<RunSummary> {
  const started = performance.now();
  const indices = o.indices ?? Array.from({ length: o.cases }, (_, i) => i);
  const summary: RunSummary = {
    tier: o.tier,
    seed: o.seed,
    cases: 0,
    durationMs: 0,
    crashes: [],
    defects: {},
    classes: {},
    statuses: {},
    statusSamples: {},
    failures: [],
    maxRssBytes: 0,
    rssTimeline: [],
    maxHealthzMs: 0,
    maxStallMs: 0,
    driverLagMaxMs: 0,
    inFlightSettled: true,
    crashAffected: 0,
    global: [],
  };
  const reportsPerClass = o.reportsPerClass ?? 3;
  const inFlight = new Map<number, FuzzCase>();
  const recent: { c: FuzzCase; at: number }[] = [];
  let restarting: Promise<void> | undefined;
  const crashSuspects: { suspects: FuzzCase[]; exit: string; stderrTail: string }[] = [];

  const watchCrash = (proxy = world.proxy) => {
    void proxy.exited.then(() => {
      if (world.proxy !== proxy || restarting) return;
      crashSuspects.push({
        // A crash is reported after the sockets closed: cases that just ended are suspects too.
        suspects: [
          ...new Map(
            [...inFlight.values(), ...recent.filter((r) => performance.now() - r.at < 3000).map((r) => r.c)].map(
              (c) => [c.index, c],
            ),
          ).values(),
        ],
        exit: `${proxy.exit?.code ?? 'signal'}`,
        stderrTail: proxy.log.tail,
      });
      restarting = world.restartProxy().then((p) => {
        restarting = undefined;
        watchCrash(p);
      });
    });
  };
  watchCrash();

  const lag = monitorEventLoopDelay({ resolution: 20 });
  lag.enable();
  const probeLag = monitorEventLoopDelay({ resolution: 10 });
  probeLag.enable();
  let monitoring = true;
  const monitor = (async () => {
    let lastHealth = 0;
    let lastTimeline = Number.NEGATIVE_INFINITY;
    while (monitoring) {
      const rss = (await world.proxy.rss()) ?? 0;
      summary.maxRssBytes = Math.max(summary.maxRssBytes, rss);
      if (performance.now() - lastTimeline >= 10_000 && rss > 0) {
        lastTimeline = performance.now();
        summary.rssTimeline.push([Math.round((lastTimeline - started) / 1000), rss]);
      }
      if (performance.now() - lastHealth > 1000 && !restarting) {
        lastHealth = performance.now();
        probeLag.reset();
        const cpu0 = await world.proxy.loopCpuMs();
        const t0 = performance.now();
        const ok = await fetch(`${world.proxy.adminUrl}/healthz`, { signal: AbortSignal.timeout(30_000) }).then(
          (r) => r.ok,
          () => false,
        );
        const ms = performance.now() - t0;
        const cpu1 = await world.proxy.loopCpuMs();
        // A probe the fuzzer itself delayed (its own loop busy) says nothing about the proxy.
        if (ok && probeLag.max / 1e6 < ms / 2) {
          summary.maxHealthzMs = Math.max(summary.maxHealthzMs, ms);
          const busy = cpu0 !== undefined && cpu1 !== undefined ? cpu1 - cpu0 : ms;
          summary.maxStallMs = Math.max(summary.maxStallMs, Math.min(ms, busy));
        }
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();

  const toShrink: { failure: Failure; c: FuzzCase }[] = [];
  const record = (c: FuzzCase, defects: Defect[]) => {
    summary.cases++;
    const k = summary.classes[c.cls] ?? { cases: 0, failing: 0 };
    summary.classes[c.cls] = k;
    k.cases++;
    if (defects.length > 0) k.failing++;
    for (const d of defects) {
      const n = (summary.defects[d.cls] ?? 0) + 1;
      summary.defects[d.cls] = n;
      if (n <= reportsPerClass) {
        const failure: Failure = {
          defect: d,
          caseIndex: c.index,
          summary: c.summary,
          reproduction: describeRequest(c),
        };
        summary.failures.push(failure);
        if (c.shrink) toShrink.push({ failure, c });
      }
    }
  };

  // Cases a crash cut off are run once more on the fresh process (the culprit then crashes it again); a case whose
  // answer looks cut waits briefly for the exit, which the operating system reports after the sockets closed.
  const queue = [...indices];
  const rerun = new Set<number>();
  let big = 0;
  const bigWaiters: (() => void)[] = [];
  const worker = async () => {
    for (let index = queue.shift(); index !== undefined; index = queue.shift()) {
      if (restarting) await restarting;
      const c = o.makeCase(o.seed, index);
      const isBig = c.request.length > 2 ** 20;
      if (isBig) {
        while (big >= (o.bigCases ?? 2)) await new Promise<void>((r) => bigWaiters.push(r));
        big++;
      }
      const proxy = world.proxy;
      inFlight.set(index, c);
      const res = await exchange({
        port: proxy.port,
        request: c.request,
        behaviour: c.behaviour,
        expected: c.expected,
        heads: c.heads,
        deadlineMs: c.deadlineMs,
      });
      if (isBig) {
        big--;
        bigWaiters.shift()?.();
      }
      if ((res.cutShort || res.timedOut) && proxy.exit === undefined)
        await Promise.race([proxy.exited, new Promise((r) => setTimeout(r, 500))]);
      inFlight.delete(index);
      recent.push({ c, at: performance.now() });
      if (recent.length > 256) recent.shift();
      if (proxy.exit !== undefined || world.proxy !== proxy) {
        world.hostile.take(c.id);
        if (!rerun.has(index)) {
          rerun.add(index);
          queue.push(index);
          continue;
        }
        summary.crashAffected++;
        continue;
      }
      const statusKey = res.responses.length === 0 ? '0' : res.responses.map((r) => r.status).join('+');
      summary.statuses[statusKey] = (summary.statuses[statusKey] ?? 0) + 1;
      summary.statusSamples[statusKey] ??= `${c.cls}: ${res.responses[0]?.body.subarray(0, 160).toString() ?? ''}`;
      record(c, evaluate(world, c, res));
      o.progress?.(summary.cases, indices.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency) }, worker));
  if (restarting) await restarting;
  monitoring = false;
  await monitor;
  lag.disable();
  probeLag.disable();
  summary.driverLagMaxMs = lag.max / 1e6;

  // In-flight gauges must come back to 0 once every client is gone; the metrics must stay sane.
  const settleBy = performance.now() + 20_000;
  let last = await metricsDefects(world.proxy.adminUrl);
  while (last.inFlight !== 0 && performance.now() < settleBy) {
    await new Promise((r) => setTimeout(r, 250));
    last = await metricsDefects(world.proxy.adminUrl);
  }
  summary.inFlightSettled = last.inFlight === 0;
  if (!summary.inFlightSettled)
    summary.global.push({ cls: 'in-flight-not-zero', detail: `${last.inFlight} requests still counted in flight` });
  summary.global.push(...last.defects);
  if (summary.maxRssBytes > o.rssLimitBytes)
    summary.global.push({ cls: 'memory', detail: `RSS reached ${(summary.maxRssBytes / 2 ** 20).toFixed(0)} MiB` });
  if (summary.maxStallMs > (o.stallMs ?? 2000))
    summary.global.push({
      cls: 'stall',
      detail: `the event loop held /healthz for ${summary.maxStallMs.toFixed(0)} ms of its own work`,
    });
  for (const p of [...world.dead, world.proxy]) {
    for (const l of p.log.leaks) summary.global.push({ cls: 'credential-in-log', detail: l });
    if (p.log.longestLine > (o.maxLogLineBytes ?? 64 * 1024))
      summary.global.push({ cls: 'log-flood', detail: `a log line of ${p.log.longestLine} bytes` });
  }

  for (const crash of crashSuspects) {
    const culprits: number[] = [];
    if (o.attributeCrashes !== false)
      for (const c of crash.suspects.slice(0, 64)) {
        const before = world.proxy;
        await exchange({ port: before.port, request: c.request, behaviour: c.behaviour, deadlineMs: c.deadlineMs });
        await new Promise((r) => setTimeout(r, 200));
        if (before.exit !== undefined) {
          culprits.push(c.index);
          if (restarting) await restarting;
          else {
            restarting = world.restartProxy().then((p) => {
              restarting = undefined;
              watchCrash(p);
            });
            await restarting;
          }
          const n = (summary.defects.crash ?? 0) + 1;
          summary.defects.crash = n;
          if (n <= reportsPerClass)
            summary.failures.push({
              defect: { cls: 'crash', detail: crash.stderrTail.slice(-1500) },
              caseIndex: c.index,
              summary: c.summary,
              reproduction: describeRequest(c),
            });
        }
      }
    summary.crashes.push({
      suspects: crash.suspects.map((c) => c.index),
      culprits,
      exit: crash.exit,
      stderrTail: crash.stderrTail.slice(-3000),
    });
  }
  for (const { failure, c } of toShrink) {
    const minimal = await minimize(world, c, failure.defect.cls);
    if (minimal !== c) failure.minimal = `${minimal.summary}\n${describeRequest(minimal)}`;
  }
  summary.durationMs = performance.now() - started;
  return summary;
}

/** Drops mutation steps one at a time while the case still breaks invariant `cls`. */
async function minimize(world: FuzzWorld, c: FuzzCase, cls: string): Promise<FuzzCase> {
  let cur = c;
  for (let round = 0; round < 8 && world.proxy.exit === undefined; round++) {
    let smaller: FuzzCase | undefined;
    for (const s of cur.shrink?.() ?? []) {
      const res = await exchange({
        port: world.proxy.port,
        request: s.request,
        behaviour: s.behaviour,
        expected: s.expected,
        heads: s.heads,
        deadlineMs: s.deadlineMs,
      });
      if (world.proxy.exit !== undefined) break;
      if (evaluate(world, s, res).some((d) => d.cls === cls)) {
        smaller = s;
        break;
      }
    }
    if (!smaller) break;
    cur = smaller;
  }
  return cur;
}

/** The summary as text: headline figures, per-class counts, and the failing cases with their reproduction. */
export function formatSummary(s: RunSummary, command: string): string {
  const lines: string[] = [];
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  const empty = s.defects['empty-2xx'] ?? 0;
  lines.push(
    `${s.tier} fuzz, seed ${s.seed}: ${s.cases} cases in ${(s.durationMs / 1000).toFixed(1)} s — ` +
      `${s.crashes.length} crashes, ${empty} empty 2xx, ${unexplained5xx(s)} unexplained 5xx, ` +
      `${totalDefects(s)} defects; max RSS ${mib(s.maxRssBytes)}, slowest /healthz ${s.maxHealthzMs.toFixed(0)} ms ` +
      `(longest stall of the proxy's own work ${s.maxStallMs.toFixed(0)} ms; ` +
      `fuzzer's own worst event-loop delay ${s.driverLagMaxMs.toFixed(0)} ms), ` +
      `in-flight back to 0: ${s.inFlightSettled ? 'yes' : 'NO'}`,
  );
  const statuses = Object.entries(s.statuses)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k}:${n}`)
    .join(' ');
  const tl = s.rssTimeline;
  const step = Math.max(1, Math.ceil(tl.length / 12));
  const shown = tl.filter((_, i) => i % step === 0 || i === tl.length - 1);
  lines.push(`RSS over time: ${shown.map(([t, b]) => `${t}s ${mib(b)}`).join(', ')}`);
  lines.push(`statuses: ${statuses}`);
  for (const [k, v] of Object.entries(s.statusSamples).sort()) lines.push(`  ${k} e.g. ${v.replace(/\s+/g, ' ')}`);
  const defects = Object.entries(s.defects).sort((a, b) => b[1] - a[1]);
  if (defects.length > 0) lines.push(`defects: ${defects.map(([k, n]) => `${k}:${n}`).join(' ')}`);
  for (const g of s.global) lines.push(`process: ${g.cls}: ${g.detail}`);
  lines.push('classes (cases/failing):');
  const classes = Object.entries(s.classes).sort((a, b) => a[0].localeCompare(b[0]));
  for (let i = 0; i < classes.length; i += 6)
    lines.push(
      `  ${classes
        .slice(i, i + 6)
        .map(([k, v]) => `${k} ${v.cases}/${v.failing}`)
        .join('  ')}`,
    );
  for (const c of s.crashes)
    lines.push(
      `crash (exit ${c.exit}): ${c.suspects.length} cases in flight; alone, ${c.culprits.length ? `case ${c.culprits.join(', ')} crashes it` : 'none crashed it again'}\n${c.stderrTail.split('\n').slice(-12).join('\n')}`,
    );
  for (const f of s.failures)
    lines.push(
      `\n--- ${f.defect.cls} — case ${f.caseIndex} (${f.summary})\n${f.defect.detail}\n` +
        `reproduce: ${command} --seed ${s.seed} --case ${f.caseIndex}\n${f.reproduction}` +
        (f.minimal ? `\nminimal: ${f.minimal}` : ''),
    );
  return lines.join('\n');
}
