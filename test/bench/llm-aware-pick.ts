/**
 * llm-aware pick cost: µs per pick (with the acquire/release a request does) at 8, 64 and 512 endpoints, without a
 * prompt, with a 6,000-character shared system prompt plus a 2,000-character conversation (one of 200 users), and
 * with a unique prompt each time (index churn at its entry cap). Metrics are fresh for every endpoint.
 * Usage: npx tsx test/bench/llm-aware-pick.ts [--picks N]
 */
import { parseArgs } from 'node:util';
import { llmAwarePickCost } from './pick-cost.js';

const { values } = parseArgs({ options: { picks: { type: 'string', default: '20000' } } });
const PICKS = Number(values.picks);
const SYSTEM = 'You are a careful assistant. Answer briefly and cite the policy section. '.repeat(80).slice(0, 6000);
const users = Array.from(
  { length: 200 },
  (_, u) => `${SYSTEM}<|user|>${`user ${u} asks about topic ${u * 7}. `.repeat(70)}`,
);

const measure = (n: number, prompt: (i: number) => string | undefined) => llmAwarePickCost(n, PICKS, prompt);

const SIZES = [8, 64, 512];
const cases: Array<[string, (i: number) => string | undefined]> = [
  ['no prompt', () => undefined],
  ['8 kB prompt, 200 users', (i) => users[i % users.length]],
  ['8 kB unique prompts', (i) => `${i} ${users[i % users.length]}`],
];
console.log(`llm-aware pick cost (µs per pick + acquire/release), ${PICKS} picks per cell (node ${process.version})`);
console.log(['case'.padEnd(24), ...SIZES.map((n) => `${n} ep`.padStart(8))].join('  '));
for (const [label, prompt] of cases)
  console.log([label.padEnd(24), ...SIZES.map((n) => measure(n, prompt).toFixed(1).padStart(8))].join('  '));
