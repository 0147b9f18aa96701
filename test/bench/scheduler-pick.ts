/**
 * Scheduler pick cost (issue "Replica-aware scheduling"): ns per pick for each strategy at 10, 100 and 1,000
 * endpoints, picks alone and picks with the acquire/release a request does (which re-keys least-connections),
 * and with a quarter of the endpoints unhealthy. Target: under 2 µs per pick at 1,000 endpoints.
 * Usage: npm run bench -- scheduler-pick [--picks N]
 */
import { parseArgs } from 'node:util';
import type { PoolMember } from '../../proxy/src/endpoints/member.js';
import type { EndpointState } from '../../proxy/src/endpoints/state.js';
import { LeastConnections } from '../../proxy/src/scheduling/least-connections.js';
import { PeakEwmaP2C } from '../../proxy/src/scheduling/peak-ewma.js';
import { WeightedRandom } from '../../proxy/src/scheduling/random.js';
import { fakeMembers } from '../../proxy/src/scheduling/testing/members.js';
import type { Scheduler } from '../../proxy/src/scheduling/types.js';
import { WeightedRoundRobin } from '../../proxy/src/scheduling/weighted-round-robin.js';

const { values } = parseArgs({ options: { picks: { type: 'string', default: '200000' } }, allowPositionals: true });
const PICKS = Number(values.picks);

const STRATEGIES: Record<string, (m: PoolMember[]) => Scheduler> = {
  'weighted-round-robin': (m) => new WeightedRoundRobin(m),
  'least-connections': (m) => new LeastConnections(m),
  'peak-ewma': (m) => new PeakEwmaP2C(m),
  random: (m) => new WeightedRandom(m),
};

const NONE: ReadonlySet<EndpointState> = new Set();

/** Members with weights 1..4 and a measured latency, some requests in flight. */
function members(n: number, unhealthyShare: number): PoolMember[] {
  const list = fakeMembers(Array.from({ length: n }, (_, i) => 1 + (i % 4)));
  const now = Date.now();
  for (const [i, m] of list.entries()) {
    m.endpoint.ewmaMs = 50 + (i % 7) * 10;
    m.endpoint.ewmaAt = now;
    for (let k = 0; k < i % 3; k++) m.endpoint.acquire();
    if (i < n * unhealthyShare) m.endpoint.health = 'unhealthy';
  }
  return list;
}

function measure(
  make: (m: PoolMember[]) => Scheduler,
  n: number,
  withRequest: boolean,
  unhealthyShare: number,
): number {
  const s = make(members(n, unhealthyShare));
  const ctx = { now: Date.now(), exclude: NONE };
  const run = (count: number) => {
    for (let i = 0; i < count; i++) {
      const m = s.pick(ctx);
      if (withRequest && m) {
        m.endpoint.acquire();
        m.endpoint.release();
      }
    }
  };
  run(Math.min(PICKS, 20_000)); // warm-up (JIT, parking of unhealthy members)
  const t = process.hrtime.bigint();
  run(PICKS);
  return Number(process.hrtime.bigint() - t) / PICKS;
}

const SIZES = [10, 100, 1000];
const rows: string[][] = [];
for (const [name, make] of Object.entries(STRATEGIES)) {
  for (const [label, withRequest, unhealthy] of [
    ['pick', false, 0],
    ['pick+acquire+release', true, 0],
    ['pick, 25% unhealthy', false, 0.25],
  ] as const) {
    rows.push([name, label, ...SIZES.map((n) => measure(make, n, withRequest, unhealthy).toFixed(0))]);
  }
}

const header = ['strategy', 'operation', ...SIZES.map((n) => `${n} ep (ns)`)];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
const line = (cells: string[]) =>
  cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
console.log(`scheduler pick cost, ${PICKS} picks per cell (node ${process.version})`);
console.log(line(header));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const r of rows) console.log(line(r));
