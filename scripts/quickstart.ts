/**
 * The quickstart behind `npm start`: two simulated vLLM replicas and the proxy in standalone mode, on loopback.
 * Ctrl-C stops everything.
 *
 * Environment: PORT / ADMIN_PORT (proxy, default 8080 / 9090; 0 picks a free port) and SIM_PORTS=port1,port2
 * (simulated replicas, default 8001,8002; 0 picks a free port). crds/samples/quickstart.yaml names the replicas
 * by their default ports: when they run elsewhere, the proxy is given a copy with the real ports substituted, and
 * edits to the sample are copied over as they happen.
 */
import { type FSWatcher, mkdtempSync, readFileSync, renameSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { startProxy } from '../proxy/src/server.js';
import { startSimulator } from '../test/sim/index.js';

const CONFIG = 'crds/samples/quickstart.yaml';
const DEFAULT_SIM_PORTS = [8001, 8002];
const MODELS = ['meta-llama/Llama-3.1-8B-Instruct', 'BAAI/bge-small-en-v1.5'];

/** A port number (0..65535), or undefined for anything else. */
const portOf = (raw: string): number | undefined =>
  /^\d+$/.test(raw) && Number(raw) <= 65535 ? Number(raw) : undefined;

function envPort(name: string, fallback: number): number {
  const raw = process.env[name]?.trim() || String(fallback);
  const port = portOf(raw);
  if (port === undefined) throw new Error(`${name}=${raw}: not a port number`);
  return port;
}

function simPorts(): number[] {
  const raw = process.env.SIM_PORTS?.trim();
  if (!raw) return DEFAULT_SIM_PORTS;
  const ports = raw.split(',').map((p) => portOf(p.trim()));
  if (ports.length !== DEFAULT_SIM_PORTS.length || ports.some((p) => p === undefined)) {
    throw new Error(`SIM_PORTS=${raw}: expected two port numbers, e.g. SIM_PORTS=8001,8002`);
  }
  return ports as number[];
}

let requested: number[];
let port: number;
let adminPort: number;
try {
  requested = simPorts();
  port = envPort('PORT', 8080);
  adminPort = envPort('ADMIN_PORT', 9090);
} catch (e) {
  process.stderr.write(`quickstart: ${(e as Error).message}\n`);
  process.exit(2);
}

const sims = await Promise.all(
  requested.map((p) =>
    startSimulator({
      flavour: 'vllm',
      host: '127.0.0.1',
      port: p,
      models: MODELS,
      ttftMs: 60,
      itlMs: 15,
      name: `vllm-${p}`,
    }),
  ),
);
const actual = sims.map((s) => s.port);

// The sample names the replicas by their default ports. When they run elsewhere, serve a copy with the real ports
// and keep it in step with edits to the sample (the proxy watches the copy's directory and reloads it).
let configPath = CONFIG;
let mirror: FSWatcher | undefined;
if (actual.some((p, i) => p !== DEFAULT_SIM_PORTS[i])) {
  const render = (yaml: string) =>
    yaml.replace(/(\/\/(?:127\.0\.0\.1|localhost):)(\d+)(?!\d)/g, (match, prefix: string, p: string) => {
      const i = DEFAULT_SIM_PORTS.indexOf(Number(p));
      return i < 0 ? match : `${prefix}${actual[i]}`;
    });
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-quickstart-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  configPath = join(dir, basename(CONFIG));
  const copy = () => {
    // Write-then-rename so the proxy never reads a half-written copy.
    writeFileSync(`${configPath}.tmp`, render(readFileSync(CONFIG, 'utf8')));
    renameSync(`${configPath}.tmp`, configPath);
  };
  copy();
  let timer: NodeJS.Timeout | undefined;
  // Watch the directory: editors replace files rather than writing them in place.
  mirror = watch(dirname(CONFIG), (_event, file) => {
    if (file !== null && file !== basename(CONFIG)) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      try {
        copy();
      } catch {
        // The sample is missing mid-replace: the next event copies it.
      }
    }, 50);
  });
}

const proxy = await startProxy({
  host: '127.0.0.1',
  port,
  adminPort,
  configPath,
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
Edit ${CONFIG} while it runs: the proxy reloads it. Ctrl-C to stop.
`);

let stopping = false;
const stop = async () => {
  if (stopping) process.exit(1);
  stopping = true;
  mirror?.close();
  await proxy.close(5000);
  await Promise.all(sims.map((s) => s.close()));
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
