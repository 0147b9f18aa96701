/**
 * The quickstart behind `npm start`: two simulated vLLM replicas and the proxy in standalone mode, on loopback.
 * Ctrl-C stops everything.
 */
import { startProxy } from '../proxy/src/server.js';
import { startSimulator } from '../test/sim/index.js';

const MODELS = ['meta-llama/Llama-3.1-8B-Instruct', 'BAAI/bge-small-en-v1.5'];
const sims = await Promise.all(
  [8001, 8002].map((port) =>
    startSimulator({
      flavour: 'vllm',
      host: '127.0.0.1',
      port,
      models: MODELS,
      ttftMs: 60,
      itlMs: 15,
      name: `vllm-${port}`,
    }),
  ),
);
const proxy = await startProxy({
  host: '127.0.0.1',
  port: Number(process.env.PORT ?? 8080),
  adminPort: Number(process.env.ADMIN_PORT ?? 9090),
  configPath: 'crds/samples/quickstart.yaml',
  logLevel: process.env.LOG_LEVEL ?? 'warn',
});

process.stdout.write(`
Switchyard quickstart is running.
  proxy      ${proxy.url}/v1        (OpenAI API; models: llama-3.1-8b, llama, text-embedding-small)
  admin      ${proxy.adminUrl}       (/metrics, /readyz, /config, /config/endpoints)
  upstreams  ${sims.map((s) => s.url).join(', ')}   (simulated vLLM replicas)

Try:
  curl ${proxy.url}/v1/chat/completions -H 'content-type: application/json' \\
    -d '{"model":"llama-3.1-8b","messages":[{"role":"user","content":"Hello!"}]}'
  curl -N ${proxy.url}/v1/chat/completions -H 'content-type: application/json' \\
    -d '{"model":"llama-3.1-8b","stream":true,"messages":[{"role":"user","content":"Hello!"}]}'

Or with the OpenAI SDK:  new OpenAI({ baseURL: '${proxy.url}/v1', apiKey: 'unused' })
Edit crds/samples/quickstart.yaml while it runs: the proxy reloads it. Ctrl-C to stop.
`);

let stopping = false;
const stop = async () => {
  if (stopping) process.exit(1);
  stopping = true;
  await proxy.close(5000);
  await Promise.all(sims.map((s) => s.close()));
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
