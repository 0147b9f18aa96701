/**
 * Command line for the upstream simulator.
 *
 *   npx tsx test/sim/cli.ts --flavour vllm --port 8001 --model sim-model --ttft-ms 50 --itl-ms 10 --replicas 3
 *
 * Prints one line per replica (`sim <name> <flavour> <url>`) then `ready`; stops gracefully on SIGINT/SIGTERM
 * (a second signal kills at once). `--help` lists the options.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { FLAVOUR_NAMES, type Flavour, type Simulator, startSimulator } from './index.js';

const DEFAULT_PORTS: Record<Flavour, number> = {
  vllm: 8000,
  llamacpp: 8080,
  openai: 8000,
  anthropic: 8000,
  ollama: 11434,
};

const USAGE = `usage: tsx test/sim/cli.ts [options]
  --flavour <${FLAVOUR_NAMES.join('|')}>  server to impersonate (default vllm)
  --host <addr>                 bind address (default 127.0.0.1)
  --port <n>                    first port; replica i listens on port+i; 0 = any (default per flavour)
  --replicas <n>                number of simulated servers (default 1)
  --model <name>                served model, repeatable (default sim-model)
  --ttft-ms <ms> --itl-ms <ms>  time to first token, inter-token latency
  --output-tokens <n>           answer length when max_tokens does not cut it (default 16)
  --max-concurrency <n> --max-queue <n>
  --loading-ms <ms>             start in the loading state for this long
  --api-key <key>               require this key
  --kv-blocks <n> --block-size <n> --prefill-ms-per-token <ms> --decode-ms-per-token <ms>
  --metrics-block-during-decode llama.cpp: /metrics waits while decoding
  --reranking                   llama.cpp: serve /rerank (as llama-server --reranking)
  --reasoning                   the model reasons when the request enables thinking
  --name <label>                replica names are <label>-<i>`;

const num = z.coerce.number().min(0).optional();
const argsSchema = z.object({
  flavour: z.enum(FLAVOUR_NAMES as [Flavour, ...Flavour[]]).default('vllm'),
  host: z.string().default('127.0.0.1'),
  port: z.coerce.number().int().min(0).max(65535).optional(),
  replicas: z.coerce.number().int().min(1).max(256).default(1),
  model: z.array(z.string()).optional(),
  'ttft-ms': num,
  'itl-ms': num,
  'output-tokens': num,
  'max-concurrency': num,
  'max-queue': num,
  'loading-ms': num,
  'api-key': z.string().optional(),
  'kv-blocks': num,
  'block-size': num,
  'prefill-ms-per-token': num,
  'decode-ms-per-token': num,
  'metrics-block-during-decode': z.boolean().optional(),
  reranking: z.boolean().optional(),
  reasoning: z.boolean().optional(),
  name: z.string().optional(),
});

const str = { type: 'string' } as const;
const { values } = parseArgs({
  options: {
    flavour: str,
    host: str,
    port: str,
    replicas: str,
    model: { type: 'string', multiple: true },
    'ttft-ms': str,
    'itl-ms': str,
    'output-tokens': str,
    'max-concurrency': str,
    'max-queue': str,
    'loading-ms': str,
    'api-key': str,
    'kv-blocks': str,
    'block-size': str,
    'prefill-ms-per-token': str,
    'decode-ms-per-token': str,
    'metrics-block-during-decode': { type: 'boolean' },
    reranking: { type: 'boolean' },
    reasoning: { type: 'boolean' },
    name: str,
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const parsed = argsSchema.safeParse(values);
if (!parsed.success) {
  console.error(`${z.prettifyError(parsed.error)}\n\n${USAGE}`);
  process.exit(2);
}
const a = parsed.data;
const basePort = a.port ?? DEFAULT_PORTS[a.flavour];
const label = a.name ?? a.flavour;

const sims: Simulator[] = [];
try {
  for (let i = 0; i < a.replicas; i++) {
    const name = a.replicas > 1 ? `${label}-${i}` : label;
    const sim = await startSimulator({
      flavour: a.flavour,
      host: a.host,
      port: basePort === 0 ? 0 : basePort + i,
      models: a.model,
      ttftMs: a['ttft-ms'],
      itlMs: a['itl-ms'],
      outputTokens: a['output-tokens'],
      maxConcurrency: a['max-concurrency'],
      maxQueue: a['max-queue'],
      loadingMs: a['loading-ms'],
      apiKey: a['api-key'],
      kvBlocks: a['kv-blocks'],
      blockSize: a['block-size'],
      prefillMsPerToken: a['prefill-ms-per-token'],
      decodeMsPerToken: a['decode-ms-per-token'],
      metricsBlockDuringDecode: a['metrics-block-during-decode'],
      reranking: a.reranking,
      reasoning: a.reasoning,
      name,
    });
    sims.push(sim);
    console.log(`sim ${name} ${a.flavour} ${sim.url}`);
  }
} catch (err) {
  console.error(`simulator failed to start: ${err instanceof Error ? err.message : String(err)}`);
  await Promise.all(sims.map((s) => s.kill()));
  process.exit(1);
}
console.log('ready');

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) {
    await Promise.all(sims.map((s) => s.kill()));
    process.exit(130);
  }
  stopping = true;
  console.log(`${signal}: stopping ${sims.length} simulator(s)`);
  await Promise.all(sims.map((s) => s.close()));
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
