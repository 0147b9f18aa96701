/**
 * The bounded, seeded fuzz tier of `npm test`: a few thousand client-side mutations over every surface and
 * endpoint, and a few thousand hostile upstream answers through every (surface × upstream protocol × stream)
 * pair, against a proxy process. Every invariant must hold (see runner.ts and invariants.ts); a failure prints the
 * seed, the case index and a minimal reproduction (`npm run fuzz -- --tier … --seed … --case …` replays it).
 * Long runs: `npm run fuzz -- --cases N --seed S`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientCase } from './client-cases.js';
import { formatSummary, type RunSummary, runFuzz } from './runner.js';
import { upstreamCase } from './upstream-cases.js';
import { type FuzzWorld, startWorld } from './world.js';

const SEED = 20261204;
const CASES = 2000;
/** The chart's memory limit; the proxy's V8 heap is sized as in such a pod (world.ts). */
const RSS_LIMIT = 512 * 2 ** 20;

/**
 * Defect classes tolerated, each with the reason it is not (yet) the proxy's to fix:
 * - `answer-lost-to-reset`: the proxy refuses a body before its last byte (413, 401, 503 budget) and a client still
 *   sending gets a TCP reset, which makes Linux drop the unread answer. Expected to be zero since the lingering close
 *   (proxy/src/http/lingering-close.ts) reads and discards what such a client still sends; a client still sending
 *   past its bounds (30 s, 5 s without a byte, 64 MiB) can still meet a reset, which is the documented bound.
 */
const TOLERATED = new Set(['answer-lost-to-reset']);

/** Everything that broke, except the tolerated classes (which are still printed by formatSummary). */
function broken(s: RunSummary) {
  return {
    crashes: s.crashes.length,
    defects: Object.fromEntries(Object.entries(s.defects).filter(([k]) => !TOLERATED.has(k))),
    process: s.global.map((g) => g.cls),
  };
}

const CLEAN = { crashes: 0, defects: {}, process: [] };

describe('fuzz tiers (seeded, bounded)', () => {
  let world: FuzzWorld;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(async () => {
    await world?.close();
  });

  it(`client-side mutation fuzzer: ${CASES} cases over every surface and endpoint break no invariant`, async () => {
    const s = await runFuzz(world, {
      tier: 'client',
      seed: SEED,
      cases: CASES,
      makeCase: (seed, i) => clientCase(seed, i, { bodyTimeoutMs: world.bodyTimeoutMs }),
      concurrency: 16,
      rssLimitBytes: RSS_LIMIT,
    });
    expect(s.cases).toBe(CASES);
    expect(Object.keys(s.classes).length).toBeGreaterThan(40);
    expect(s.classes.control?.cases).toBeGreaterThan(40);
    expect(broken(s), formatSummary(s, 'npm run fuzz -- --tier client')).toEqual(CLEAN);
  }, 600_000);

  it(`upstream-answer fuzzer: ${CASES} hostile answers through every (surface × protocol × stream) pair break no invariant`, async () => {
    const s = await runFuzz(world, {
      tier: 'upstream',
      seed: SEED,
      cases: CASES,
      makeCase: upstreamCase,
      concurrency: 32,
      rssLimitBytes: RSS_LIMIT,
    });
    expect(s.cases).toBe(CASES);
    expect(Object.keys(s.classes).length).toBeGreaterThan(35);
    expect(broken(s), formatSummary(s, 'npm run fuzz -- --tier upstream')).toEqual(CLEAN);
  }, 600_000);

  it('notices a proxy that dies mid-run, restarts it, and blames the cases in flight', async () => {
    const first = world.proxy;
    const run = runFuzz(world, {
      tier: 'upstream',
      seed: SEED,
      cases: 200,
      makeCase: (seed, i) => upstreamCase(seed, i, ['slow']),
      concurrency: 8,
      rssLimitBytes: RSS_LIMIT,
      attributeCrashes: false,
      progress: (done) => {
        if (done === 20) void first.stop();
      },
    });
    const s = await run;
    expect(s.crashes).toHaveLength(1);
    expect(s.crashes[0]?.suspects.length).toBeGreaterThan(0);
    expect(world.proxy).not.toBe(first);
    expect(world.proxy.exit).toBeUndefined();
    expect(s.cases + s.crashAffected).toBe(200);
  }, 300_000);
});
