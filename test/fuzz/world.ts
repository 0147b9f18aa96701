/**
 * Everything a fuzz run talks to: well-behaved simulators of each upstream kind (client fuzzer), the hostile
 * upstream behind one backend per upstream provider (upstream fuzzer), and the proxy in its own process configured
 * from manifests that use them (credentials in a Secret, an API-key policy, a cached pool). Loopback only.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type HostileUpstream, startHostileUpstream } from '../sim/hostile/index.js';
import { type Simulator, startSimulator } from '../sim/index.js';
import { poolManifests } from '../support/manifests.js';
import { type ProxyProcess, spawnProxy } from './proxy-process.js';

/** Upstream provider kinds, each behind one backend per tier. */
export const PROVIDERS = ['vllm', 'llamacpp', 'openai', 'anthropic', 'ollama'] as const;
/** An upstream provider kind. */
export type Provider = (typeof PROVIDERS)[number];

/** Public model of the healthy simulator of `p` (client fuzzer). */
export const simModel = (p: Provider) => `fz-${p}`;
/**
 * Public model of the hostile backend of `p` (upstream fuzzer). Classes whose answers block an endpoint for a while
 * (429 / 503 / 529 with or without Retry-After) get backends of their own (`blocking`), so they cannot starve the
 * other classes of an upstream.
 */
export const hostileModel = (p: Provider, blocking = false) => `hz-${p}${blocking ? '-blocking' : ''}`;
/** A pool that requires an API key (over the vLLM simulator). */
export const AUTH_MODEL = 'fz-auth';
/** A pool with a response cache (over the vLLM simulator). */
export const CACHE_MODEL = 'fz-cache';
/** The API key the auth pool accepts. */
export const TENANT_KEY = 'sk-fuzz-tenant-6b2e9d41c07a58f3';

/** The credential the proxy sends to the backend named `name`. */
const backendKey = (name: string) => `sk-fuzzkey-${name}-7f3a9c2e4b1d8f6a0c5e`;

const FLAVOUR: Record<Provider, 'vllm' | 'llamacpp' | 'openai' | 'anthropic' | 'ollama'> = {
  vllm: 'vllm',
  llamacpp: 'llamacpp',
  openai: 'openai',
  anthropic: 'anthropic',
  ollama: 'ollama',
};

/** The endpoint URL of a replica at `origin` for `provider` (OpenAI-protocol ones under /v1). */
const endpointUrl = (provider: Provider, origin: string) =>
  provider === 'anthropic' || provider === 'ollama' ? origin : `${origin}/v1`;

function backendAndPool(
  name: string,
  provider: Provider,
  model: string,
  origins: string[],
  hostile: boolean,
  keyName = name,
): string {
  const timeouts = hostile
    ? '{ connect: 1s, firstByte: 3s, idle: 2s, total: 10s }'
    : '{ connect: 2s, firstByte: 20s, idle: 10s, total: 30s }';
  return `${poolManifests({
    name,
    model,
    provider,
    upstreamName: `upstream-${provider}`,
    urls: origins.map((o) => endpointUrl(provider, o)),
    // Health checks are not under test here: a fuzzer busy building a 10 MB case must not get a replica marked down.
    backendSpec: `  credentialsRef: { name: fuzz-keys, key: ${keyName} }
  healthCheck: { interval: 2s, timeout: 15s, unhealthyThreshold: 10 }
  pricing: { inputPerMillion: 1, outputPerMillion: 2 }
  timeouts: ${timeouts}`,
    poolSpec: hostile
      ? `  retry: { attempts: 2, backoff: { base: 5ms, max: 50ms }, maxRetryAfter: 1s }
  outlierDetection: { consecutiveFailures: 1000, maxEjectionPercent: 0 }`
      : '',
  })}---\n`;
}

/** The running processes of a fuzz run. */
export interface FuzzWorld {
  /** The proxy's body read timeout (ms). */
  bodyTimeoutMs: number;
  proxy: ProxyProcess;
  hostile: HostileUpstream;
  sims: Simulator[];
  /** Every credential that must never reach a client or a log line. */
  secrets: string[];
  /** Processes that died (crashed) during the run, in order. */
  dead: ProxyProcess[];
  /** Starts a fresh proxy (after a crash) with the same configuration. */
  restartProxy(): Promise<ProxyProcess>;
  close(): Promise<void>;
}

/** How the world is started. */
export interface WorldOptions {
  /** Bytes a hostile endless line writes before it falls silent. */
  endlessCapBytes?: number;
  /** The proxy's header and body read timeouts (short, so clients that stop sending are cases of seconds). */
  readTimeoutSeconds?: number;
  /** V8's old-space limit of the proxy (MiB); default 384, what fits the chart's 512 Mi memory limit. */
  heapMb?: number;
}

/** Starts simulators, the hostile upstream and the proxy. */
export async function startWorld(o: WorldOptions = {}): Promise<FuzzWorld> {
  const hostile = await startHostileUpstream({ replicas: 4, endlessCapBytes: o.endlessCapBytes ?? 32 * 1024 * 1024 });
  const sims: Simulator[] = [];
  const names: string[] = [];
  let manifests = '';
  for (const p of PROVIDERS) {
    const key = backendKey(`sim-${p}`);
    const sim = await startSimulator({
      flavour: FLAVOUR[p],
      models: [`upstream-${p}`],
      recordLimit: 0,
      // llama.cpp serves rerank, as llama-server started with --reranking.
      ...(p === 'llamacpp' ? { reranking: true } : {}),
      ...(p === 'ollama' ? {} : { apiKey: key }),
    });
    sims.push(sim);
    names.push(`sim-${p}`);
    manifests += backendAndPool(`sim-${p}`, p, simModel(p), [sim.url], false);
    names.push(`hostile-${p}`, `hostile-${p}-blocking`);
    manifests += backendAndPool(`hostile-${p}`, p, hostileModel(p), hostile.urls.slice(0, 2), true);
    manifests += backendAndPool(`hostile-${p}-blocking`, p, hostileModel(p, true), hostile.urls.slice(2), true);
  }
  const vllmSim = sims[0] as Simulator;
  for (const [name, model] of [
    ['sim-auth', AUTH_MODEL],
    ['sim-cache', CACHE_MODEL],
  ] as const) {
    manifests += backendAndPool(name, 'vllm', model, [vllmSim.url], false, 'sim-vllm');
  }
  manifests += `apiVersion: switchyard.dev/v1alpha1
kind: RoutePolicy
metadata: { name: fuzz-auth }
spec:
  rules: [{ match: { model: { value: ${AUTH_MODEL} } } }]
  auth: { required: true }
  tenants:
    - name: fuzzers
      apiKeys: [{ name: fuzz-keys, key: tenant }]
      limits: { requestsPerMinute: 1000000, tokensPerMinute: 100000000 }
---
apiVersion: switchyard.dev/v1alpha1
kind: RoutePolicy
metadata: { name: fuzz-cache }
spec:
  rules: [{ match: { model: { value: ${CACHE_MODEL} } } }]
  cache: { ttl: 1m }
---
apiVersion: v1
kind: Secret
metadata: { name: fuzz-keys }
stringData:
${names.map((n) => `  ${n}: "${backendKey(n)}"`).join('\n')}
  tenant: "${TENANT_KEY}"
`;
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-fuzz-'));
  const configFile = join(dir, 'manifests.yaml');
  await writeFile(configFile, manifests);
  const secrets = [...names.map(backendKey), TENANT_KEY];
  const t = String(o.readTimeoutSeconds ?? 3);
  const args = ['--headers-timeout-seconds', t, '--body-timeout-seconds', t];
  const spawn = () => spawnProxy({ configFile, secrets, args, heapMb: o.heapMb ?? 384 });
  const world: FuzzWorld = {
    bodyTimeoutMs: Number(t) * 1000,
    proxy: await spawn(),
    hostile,
    sims,
    secrets,
    dead: [],
    async restartProxy() {
      world.dead.push(world.proxy);
      await world.proxy.stop();
      world.proxy = await spawn();
      return world.proxy;
    },
    async close() {
      await world.proxy.stop();
      await hostile.close();
      await Promise.all(sims.map((s) => s.close()));
      await rm(dir, { recursive: true, force: true });
    },
  };
  return world;
}
