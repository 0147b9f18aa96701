/**
 * A control plane that one bad resource cannot stop, against a real kube-apiserver: the operator process (as its
 * least-privilege ServiceAccount), two proxy processes and one simulated vLLM replica reached through static
 * endpoints. The processes and the pool `chat` are shared; each scenario adds resources of its own names and leaves
 * the fleet as it found it, so scenarios run in any order (`--sequence.shuffle`). Every wait polls a positive
 * signal with a deadline.
 *
 * - isolation: a backend stored with a file:// URL (under an older, looser CRD) gets Accepted=False naming
 *   spec.url while other changes keep reaching every proxy;
 * - convergence: a proxy restarted at the same address serves again within the stated bound;
 * - conflicts by age: an older pool keeps its model name against a newer one whose name sorts first;
 * - faults: 100 random invalid resources while valid changes keep flowing.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { specSchema } from '../../operator/src/crds/generate.js';
import { propertySchema, type SchemaNode } from '../../operator/src/crds/structural.js';
import { endpointSliceYaml, serviceYaml } from '../../operator/src/testing/manifests.js';
import { chat, metric, type ProxyAddress, proxyConfig } from '../../operator/src/testing/probes.js';
import {
  freePort,
  type Proc,
  type ProxyProc,
  startOperatorProcess,
  startProxyProcess,
} from '../../operator/src/testing/processes.js';
import { API_VERSION } from '../../shared/src/index.js';
import { type ControlPlane, startControlPlane } from '../control-plane/index.js';
import { Random, valueFor } from '../properties/crd-values.js';
import { type Simulator, startSimulator } from '../sim/index.js';
import {
  applyYaml,
  installCrds,
  nonLoopbackIPv4,
  operatorServiceAccountKubeconfig,
  proxyServiceYaml,
} from '../support/operator-setup.js';
import { waitFor } from '../support/wait.js';

const ROOT = join(import.meta.dirname, '..', '..');
const NS = 'llm';
const SYS = 'switchyard';
const FAULT = 'fault';
const TOKEN = 'isolation-push-token';
/** Operator settings the convergence bound is stated for. */
const RESYNC_MS = 2_000;
const PUSH_TIMEOUT_MS = 5_000;
const BOUND_MS = RESYNC_MS + 2 * PUSH_TIMEOUT_MS;
const HOST = nonLoopbackIPv4() as string;

let cp: ControlPlane;
let logDir: string;
let sim: Simulator;
let metricsPort: number;
const procs: Proc[] = [];
const proxies: (ProxyAddress & { name: string; proc: ProxyProc })[] = [];

const apply = (yaml: string) => applyYaml(cp, yaml);

interface Cond {
  type: string;
  status: string;
  reason: string;
  message: string;
}
interface Obj {
  kind: string;
  metadata: { name: string; namespace: string };
  status?: { conditions?: Cond[]; proxiesInSync?: string };
}
const cond = (o: Obj | undefined, type: string) => o?.status?.conditions?.find((c) => c.type === type);

async function get(kind: string, name: string, ns = NS): Promise<Obj | undefined> {
  const r = await cp.kubectl(['get', kind, name, '-n', ns, '-o', 'json']);
  return r.code === 0 ? (JSON.parse(r.stdout) as Obj) : undefined;
}

const backendYaml = (ns: string, name: string, model: string) => `apiVersion: ${API_VERSION}
kind: LLMBackend
metadata: { name: ${name}, namespace: ${ns} }
spec:
  provider: vllm
  endpoints: [{ url: "${sim.url}" }]
  models: [{ name: ${model}, upstreamName: chat-model }]
  healthCheck: { interval: 1s }
`;
const poolYaml = (
  ns: string,
  name: string,
  model: string,
  backend = 'sim',
  aliases: string[] = [],
) => `apiVersion: ${API_VERSION}
kind: LLMPool
metadata: { name: ${name}, namespace: ${ns} }
spec: { model: ${model}, aliases: ${JSON.stringify(aliases)}, backendRefs: [{ name: ${backend} }] }
`;

/** Every proxy serves `model` (200 through the proxy). */
const everyProxyServes = async (model: string) =>
  (await Promise.all(proxies.map((p) => chat(p, model)))).every((r) => r.status === 200);

/** The pool every proxy routes `model` to (from GET /config), or undefined when they disagree or none does. */
async function poolServing(model: string): Promise<string | undefined> {
  const ids = await Promise.all(
    proxies.map(async (p) => {
      const c = (await proxyConfig(p)) as { pools?: { id: string; model: string; aliases: string[] }[] } | undefined;
      return c?.pools?.find((x) => x.model === model || x.aliases.includes(model))?.id;
    }),
  );
  return ids.every((id) => id === ids[0]) ? ids[0] : undefined;
}

async function startProxy(name: string, ports?: { port: number; adminPort: number }) {
  const proc = await startProxyProcess({ host: HOST, token: TOKEN, logDir, name, ...ports });
  procs.push(proc);
  return proc;
}

beforeAll(async () => {
  if (!HOST) throw new Error('no non-loopback IPv4 address: EndpointSlices cannot point at this machine');
  logDir = await mkdtemp(join(tmpdir(), 'switchyard-isolation-'));
  sim = await startSimulator({ flavour: 'vllm', host: HOST, port: 0, models: ['chat-model'] });
  for (const name of ['proxy-0', 'proxy-1']) {
    const proc = await startProxy(name);
    proxies.push({ name, host: HOST, traffic: proc.port, admin: proc.adminPort, proc });
  }
  cp = await startControlPlane();
  await installCrds(cp);
  await apply(
    [NS, SYS, FAULT, 'a-team'].map((n) => `apiVersion: v1\nkind: Namespace\nmetadata: { name: ${n} }\n`).join('---\n'),
  );
  const kubeconfig = await operatorServiceAccountKubeconfig(cp, SYS);
  await apply(proxyServiceYaml(SYS, HOST, proxies));
  metricsPort = await freePort();
  procs.push(
    startOperatorProcess({
      kubeconfig,
      identity: 'op',
      metricsPort,
      proxyService: `${SYS}/switchyard-proxy`,
      proxyAdminPort: 'admin',
      token: TOKEN,
      logDir,
      extraArgs: ['--resync', `${RESYNC_MS}ms`, '--push-timeout', `${PUSH_TIMEOUT_MS}ms`],
    }),
  );
  await waitFor(async () => (await metric(metricsPort, 'switchyard_operator_leader')) === 1, 60_000, 'leader');
  await apply(`${backendYaml(NS, 'sim', 'chat')}---\n${poolYaml(NS, 'chat', 'chat')}`);
  await waitFor(() => everyProxyServes('chat'), 60_000, 'both proxies to serve chat');
  console.log(`[isolation] logs in ${logDir}`);
}, 240_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
  await sim?.kill();
  await cp?.stop();
});

/** The LLMBackend CRD without the checks on spec.url: what an older, looser CRD admitted. */
async function looserBackendCrd(): Promise<string> {
  const crd = parse(await readFile(join(ROOT, 'crds', 'llmbackends.yaml'), 'utf8')) as {
    spec: { versions: { schema: { openAPIV3Schema: SchemaNode } }[] };
  };
  const url = propertySchema(propertySchema(crd.spec.versions[0]?.schema.openAPIV3Schema, 'spec'), 'url');
  if (!url) throw new Error('the LLMBackend CRD has no spec.url');
  for (const k of ['pattern', 'x-kubernetes-validations']) delete url[k];
  return stringify(crd);
}

describe('a control plane that one bad resource cannot stop', () => {
  it('a file:// backend stored under an older CRD gets a condition naming spec.url; other changes still reach every proxy', async () => {
    // admission refuses it now…
    const refused = await cp.kubectl(['apply', '-f', '-'], {
      input: backendYaml(NS, 'files', 'files').replace(`"${sim.url}"`, '"file:///etc/passwd"'),
    });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('spec.endpoints[0].url');
    // …but objects stored before the CRD was tightened stay in etcd
    await apply(await looserBackendCrd());
    await apply(
      `apiVersion: ${API_VERSION}
kind: LLMBackend
metadata: { name: files, namespace: ${NS} }
spec: { provider: openai, url: "file:///etc/passwd", models: [{ name: files }] }
`,
    );
    await apply(await readFile(join(ROOT, 'crds', 'llmbackends.yaml'), 'utf8'));
    await apply(poolYaml(NS, 'files', 'files', 'files'));
    // a later, valid change reaches every proxy
    await apply(poolYaml(NS, 'chat-2', 'chat-2'));
    await waitFor(() => everyProxyServes('chat-2'), 30_000, 'every proxy to serve chat-2');
    await waitFor(
      async () => cond(await get('llmbackend', 'files'), 'Accepted')?.status === 'False',
      30_000,
      'the file:// backend to get Accepted=False',
    );
    const accepted = cond(await get('llmbackend', 'files'), 'Accepted');
    expect(accepted).toMatchObject({ status: 'False', reason: 'Invalid' });
    expect(accepted?.message).toContain('spec.url: must use the http or https scheme');
    await waitFor(
      async () => cond(await get('llmpool', 'files'), 'ResolvedRefs')?.status === 'False',
      30_000,
      'the pool on it to get ResolvedRefs=False',
    );
    expect(cond(await get('llmpool', 'files'), 'ResolvedRefs')?.message).toContain('spec.backendRefs[0].name');
    // the pool is served, with nothing to serve it: 503, not another pool's answer
    expect((await chat(proxies[0] as ProxyAddress, 'files')).status).toBe(503);
    // honest status: a pool whose preferred tier is the broken backend is not Ready, though failover serves it
    await apply(`apiVersion: ${API_VERSION}
kind: LLMPool
metadata: { name: tiers, namespace: ${NS} }
spec: { model: tiers, backendRefs: [{ name: files, priority: 0 }, { name: sim, priority: 1 }] }
`);
    await waitFor(() => everyProxyServes('tiers'), 30_000, 'failover to serve the tiers pool');
    await waitFor(
      async () => cond(await get('llmpool', 'tiers'), 'Ready')?.reason === 'PreferredTierUnavailable',
      30_000,
      'Ready=False (PreferredTierUnavailable) on the tiers pool',
    );
    expect(cond(await get('llmpool', 'tiers'), 'Ready')?.status).toBe('False');
  }, 120_000);

  it(`a proxy restarted at the same address serves again within ${BOUND_MS} ms (resync + 2 x push timeout)`, async () => {
    const victim = proxies[1] as (typeof proxies)[number];
    const version = (await proxyConfig(victim))?.version;
    expect(version).toBeDefined();
    await victim.proc.kill('SIGKILL');
    await waitFor(
      async () => (await get('llmpool', 'chat'))?.status?.proxiesInSync === '1/2',
      BOUND_MS + 10_000,
      'PROXIES to show 1/2 while the proxy is down',
    );
    const partial = cond(await get('llmpool', 'chat'), 'Ready');
    expect(partial).toMatchObject({ status: 'True', reason: 'PartiallyReady' });
    expect(partial?.message).toContain('1 of 2 proxies serve it');
    const proc = await startProxy('proxy-1-restarted', { port: victim.traffic, adminPort: victim.admin });
    victim.proc = proc;
    const listening = Date.now();
    await waitFor(async () => (await proxyConfig(victim))?.version === version, BOUND_MS + 20_000, 'restarted proxy');
    const took = Date.now() - listening;
    console.log(`[isolation] restarted proxy served the current snapshot ${took} ms after it listened`);
    expect(took).toBeLessThanOrEqual(BOUND_MS);
    expect((await chat(victim, 'chat')).status).toBe(200);
    await waitFor(
      async () => (await get('llmpool', 'chat'))?.status?.proxiesInSync === '2/2',
      BOUND_MS + 10_000,
      'PROXIES 2/2 again',
    );
    await waitFor(async () => cond(await get('llmpool', 'chat'), 'Ready')?.reason === 'Ready', 10_000, 'Ready again');
  }, 120_000);

  it('an older pool keeps its model name against a newer one whose name sorts first', async () => {
    await apply(`${poolYaml(NS, 'zz-old', 'shared-name')}`);
    await waitFor(async () => (await poolServing('shared-name')) === `${NS}/zz-old`, 30_000, 'zz-old served');
    // creationTimestamp has one-second resolution (a tie goes by namespace/name): let a second begin
    const created = (await get('llmpool', 'zz-old'))?.metadata as { creationTimestamp?: string } | undefined;
    await waitFor(() => new Date().toISOString().slice(0, 19) > (created?.creationTimestamp ?? '').slice(0, 19), 5_000);
    await apply(`${backendYaml('a-team', 'sim', 'other')}---\n${poolYaml('a-team', 'aa-new', 'shared-name')}`);
    await waitFor(
      async () => cond(await get('llmpool', 'aa-new', 'a-team'), 'Accepted')?.status === 'False',
      30_000,
      'the newcomer to get Accepted=False',
    );
    const accepted = cond(await get('llmpool', 'aa-new', 'a-team'), 'Accepted');
    expect(accepted).toMatchObject({ reason: 'ModelConflict' });
    expect(accepted?.message).toContain(
      `spec.model: model name "shared-name" is already served by LLMPool ${NS}/zz-old`,
    );
    expect(await poolServing('shared-name')).toBe(`${NS}/zz-old`);
    expect(cond(await get('llmpool', 'zz-old'), 'Accepted')?.status).toBe('True');
    for (const p of proxies) expect((await chat(p, 'shared-name')).status).toBe(200);
  }, 120_000);

  it('reads referenced Secrets by name (a late one resolves its backend); unrelated Services and slices cost no translation', async () => {
    const reconciles = () => metric(metricsPort, 'switchyard_operator_reconciles_total', 'controller="snapshot"');
    await apply(
      `apiVersion: ${API_VERSION}
kind: LLMBackend
metadata: { name: keyed, namespace: ${NS} }
spec:
  provider: openai-compatible
  endpoints: [{ url: "${sim.url}" }]
  credentialsRef: { name: later-key, key: token }
  models: [{ name: keyed, upstreamName: chat-model }]
---
${poolYaml(NS, 'keyed', 'keyed', 'keyed')}`,
    );
    await waitFor(
      async () => cond(await get('llmbackend', 'keyed'), 'ResolvedRefs')?.reason === 'SecretNotFound',
      30_000,
      'SecretNotFound on the backend',
    );
    await apply(
      `apiVersion: v1\nkind: Secret\nmetadata: { name: later-key, namespace: ${NS} }\nstringData: { token: sk-late }\n`,
    );
    await waitFor(
      () => everyProxyServes('keyed'),
      BOUND_MS + 20_000,
      'the backend to be served once its Secret exists',
    );
    expect(cond(await get('llmbackend', 'keyed'), 'ResolvedRefs')?.status).toBe('True');

    const before = await reconciles();
    await apply('apiVersion: v1\nkind: Namespace\nmetadata: { name: noise }\n');
    await apply(
      Array.from({ length: 15 }, (_, i) =>
        [
          serviceYaml('noise', `svc-${i}`, 80),
          endpointSliceYaml('noise', `svc-${i}`, 80, [{ ip: HOST, pod: `pod-${i}` }], { name: `svc-${i}-a` }),
          `apiVersion: v1\nkind: Secret\nmetadata: { name: s-${i}, namespace: noise }\nstringData: { k: v }\n`,
        ].join('---\n'),
      ).join('---\n'),
    );
    // then a Service a backend references, and its slice: once the proxies serve it, the noise before it was seen
    await apply(
      [
        serviceYaml(NS, 'real', 8000),
        endpointSliceYaml(NS, 'real', sim.port, [{ ip: HOST, pod: 'sim-0' }]),
        `apiVersion: ${API_VERSION}
kind: LLMBackend
metadata: { name: svc-backed, namespace: ${NS} }
spec: { provider: vllm, serviceRef: { name: real, port: 8000 }, models: [{ name: svc-model, upstreamName: chat-model }] }
`,
        poolYaml(NS, 'svc-pool', 'svc-model', 'svc-backed'),
      ].join('---\n'),
    );
    await waitFor(() => everyProxyServes('svc-model'), 30_000, 'the Service-backed pool');
    const translations = (await reconciles()) - before;
    console.log(`[isolation] ${translations} translations for 45 unrelated objects and 4 related ones`);
    expect(translations).toBeLessThanOrEqual(8);
  }, 120_000);

  it('100 random invalid resources: valid changes keep reaching every proxy, every invalid one gets a condition', async () => {
    const r = new Random(17);
    const some = (kind: 'LLMBackend' | 'LLMPool' | 'RoutePolicy', field: string) =>
      r.chance(0.5) ? { [field]: valueFor(propertySchema(specSchema(kind), field) ?? {}, r) } : {};
    /** One defect each that admission cannot see; the condition (type and field) that must report it. */
    const defects = [
      () => ({
        kind: 'LLMBackend',
        spec: {
          provider: 'openai',
          url: 'https://api.example.com/v1',
          models: [{ name: `m${r.int(0, 1e6)}` }],
          credentialsRef: { name: `missing-${r.int(0, 1e6)}`, key: 'k' },
          ...some('LLMBackend', 'timeouts'),
        },
        condition: 'ResolvedRefs',
        field: 'spec.credentialsRef',
      }),
      () => ({
        kind: 'LLMBackend',
        spec: {
          provider: 'vllm',
          serviceRef: { name: `no-such-svc-${r.int(0, 1e6)}`, port: 8000 },
          models: [{ name: 'x' }],
          ...some('LLMBackend', 'healthCheck'),
        },
        condition: 'ResolvedRefs',
        field: 'spec.serviceRef',
      }),
      () => ({
        kind: 'LLMPool',
        spec: {
          model: `pool-${r.int(0, 1e9)}`,
          backendRefs: [{ name: `absent-${r.int(0, 1e6)}` }],
          ...some('LLMPool', 'retry'),
          ...some('LLMPool', 'scheduling'),
        },
        condition: 'ResolvedRefs',
        field: 'spec.backendRefs[0].name',
      }),
      () => ({
        kind: 'LLMPool',
        spec: { model: 'chat', backendRefs: [{ name: 'sim' }], ...some('LLMPool', 'outlierDetection') },
        condition: 'Accepted',
        field: 'spec.model',
      }),
      () => ({
        kind: 'RoutePolicy',
        spec: {
          rules: [{ match: { model: { value: `s${r.int(0, 1e6)}` } }, pools: [{ name: `nowhere-${r.int(0, 1e6)}` }] }],
          ...some('RoutePolicy', 'cache'),
        },
        condition: 'ResolvedRefs',
        field: 'spec.rules[0].pools[0].name',
      }),
      () => ({
        kind: 'RoutePolicy',
        spec: {
          rules: [{ match: { model: { value: `t${r.int(0, 1e6)}` } } }],
          tenants: [{ name: 't', apiKeys: [{ name: `gone-${r.int(0, 1e6)}`, key: 'k' }] }],
        },
        condition: 'ResolvedRefs',
        field: 'spec.tenants[0].apiKeys[0]',
      }),
    ];
    // the fault namespace has a backend named sim too, so ModelConflict pools resolve their backend
    await apply(backendYaml(FAULT, 'sim', 'fault-model'));

    const invalid: { kind: string; name: string; condition: string; field: string }[] = [];
    let refusedAtAdmission = 0;
    const faults = (async () => {
      for (let i = 0; invalid.length < 100; i++) {
        const d = (r.pick(defects) as () => { kind: string; spec: unknown; condition: string; field: string })();
        const name = `bad-${i}`;
        const input = JSON.stringify({
          apiVersion: API_VERSION,
          kind: d.kind,
          metadata: { name, namespace: FAULT },
          spec: d.spec,
        });
        const res = await cp.kubectl(['create', '-f', '-'], { input });
        if (res.code === 0) invalid.push({ kind: d.kind, name, condition: d.condition, field: d.field });
        else {
          // a random optional field the CRD refuses: a clear message naming the field
          expect(res.stderr).toMatch(/spec\.[a-zA-Z]/);
          refusedAtAdmission++;
        }
      }
    })();
    const reached: number[] = [];
    const changes = (async () => {
      for (let k = 1; k <= 8; k++) {
        const started = Date.now();
        await apply(poolYaml(NS, 'chat', 'chat', 'sim', [`chat-v${k}`]));
        await waitFor(() => everyProxyServes(`chat-v${k}`), 60_000, `change ${k} to reach every proxy`);
        reached.push(Date.now() - started);
      }
    })();
    await Promise.all([faults, changes]);
    console.log(
      `[isolation] valid changes reached both proxies in ${reached.join(', ')} ms; ${refusedAtAdmission} random resources refused at admission`,
    );
    expect(reached).toHaveLength(8);

    await waitFor(
      async () => {
        const res = await cp.kubectl(['get', 'llmbackends,llmpools,routepolicies', '-n', FAULT, '-o', 'json']);
        const items = (JSON.parse(res.stdout) as { items: Obj[] }).items;
        return invalid.every((want) => {
          const o = items.find((x) => x.kind === want.kind && x.metadata.name === want.name);
          const c = cond(o, want.condition);
          return c?.status === 'False' && c.message.includes(want.field);
        });
      },
      120_000,
      'every invalid resource to get a False condition naming the field',
    );
    // and the valid configuration is still whole
    for (const p of proxies) for (const m of ['chat', 'chat-v8']) expect((await chat(p, m)).status).toBe(200);
  }, 400_000);
});
