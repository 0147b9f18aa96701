/** The llm-aware scheduler's cost of one pick, measured in process over synthetic replicas with fresh load metrics. */
import { recordServerLoad } from '../../proxy/src/endpoints/load.js';
import type { EndpointState } from '../../proxy/src/endpoints/state.js';
import { AffinityRegistry } from '../../proxy/src/scheduling/llm-aware/affinity-tables.js';
import { LlmAwareScheduler } from '../../proxy/src/scheduling/llm-aware/strategy.js';
import { llmAwarePool, scrapedMembers } from '../../proxy/src/scheduling/testing/llm-aware-pool.js';

const NONE: ReadonlySet<EndpointState> = new Set();

/** µs per pick (with the acquire/release a request does) over `n` replicas, prompts from `prompt`. */
export function llmAwarePickCost(n: number, picks: number, prompt: (i: number) => string | undefined): number {
  const members = scrapedMembers(n, 60_000);
  for (const [i, m] of members.entries())
    recordServerLoad(m.endpoint, 'metrics', { running: i % 4, waiting: i % 3, kvUsage: (i % 10) / 20 }, Date.now());
  const s = new LlmAwareScheduler(
    llmAwarePool({ prefixBlockChars: 256 }, `bench/${n}/${Math.random()}`),
    members,
    new AffinityRegistry(),
  );
  const run = (count: number) => {
    for (let i = 0; i < count; i++) {
      const p = prompt(i);
      const m = s.pick({ now: Date.now(), exclude: NONE, ...(p ? { prompt: p } : {}) });
      m?.endpoint.acquire();
      m?.endpoint.release();
    }
  };
  run(Math.min(picks, 5000));
  const t = process.hrtime.bigint();
  run(picks);
  return Number(process.hrtime.bigint() - t) / picks / 1000;
}
