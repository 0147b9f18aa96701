/** A zero-latency simulated vLLM server in its own process, for benchmarks. Usage: tsx sim-server.ts <port> <model> */
import { startSimulator } from '../sim/index.js';

const [port, model] = process.argv.slice(2);
await startSimulator({
  flavour: 'vllm',
  host: '127.0.0.1',
  port: Number(port),
  models: [model ?? 'bench-model'],
  ttftMs: 0,
  itlMs: 0,
  maxConcurrency: 4096,
  recordLimit: 0,
});
process.on('SIGTERM', () => process.exit(0));
