/**
 * End to end against a real kube-apiserver: the operator process, two proxy processes and upstream replicas.
 * EndpointSlices are written by the test (there is no kubelet or controller-manager). The apiserver refuses
 * loopback addresses in EndpointSlices, so every process listens on this machine's own IP, on its own port, and
 * each replica/proxy has its own slice (slices may carry different port numbers for the same port name).
 * The processes are shared; each scenario deploys its own resources in its own namespace (model `chat-<ns>`), finds
 * operator A leading when it starts and leaves the proxy fleet as it found it, so scenarios run in any order
 * (`--sequence.shuffle`). Every wait polls a positive signal with a deadline.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { endpointSliceYaml, serviceYaml } from '../../operator/src/testing/manifests.js';
import {
  chat,
  metric,
  type ProxyAddress,
  servedEndpoints as probeServedEndpoints,
  proxyConfig,
  spread,
} from '../../operator/src/testing/probes.js';
import { freePort, type Proc, startOperatorProcess, startProxyProcess } from '../../operator/src/testing/processes.js';
import { type ControlPlane, startControlPlane } from '../control-plane/index.js';
import { type Simulator, startSimulator } from '../sim/index.js';
import {
  applyYaml,
  installCrds,
  nonLoopbackIPv4,
  operatorServiceAccountKubeconfig,
  proxyServiceYaml,
} from '../support/operator-setup.js';
import { waitFor } from '../support/wait.js';

const NS = 'llm';
const SYS = 'switchyard';
const TOKEN = 'e2e-push-token';
/** This machine's first non-internal IPv4 address. */
const HOST = nonLoopbackIPv4();
const PODS = ['vllm-0', 'vllm-1', 'vllm-2'] as const;
type Pod = (typeof PODS)[number];
type PodState = 'ready' | 'not-ready' | 'absent';

let cp: ControlPlane;
let logDir: string;
let ports: { opA: number; opB: number; replicas: Record<Pod | 'vllm-b-0', number> };
let PROXIES: (ProxyAddress & { name: string })[] = [];
const procs: Proc[] = [];
const sims = new Map<string, Simulator>();
let operatorA: Proc | undefined;
/** kubeconfig of the operator's ServiceAccount, restricted by operator/config/rbac.yaml. */
let operatorKubeconfig: string;

const apply = (yaml: string) => applyYaml(cp, yaml);

async function getJson<T>(args: string[]): Promise<T | undefined> {
  const r = await cp.kubectl(['get', ...args, '-o', 'json']);
  return r.code === 0 ? (JSON.parse(r.stdout) as T) : undefined;
}

interface Cond {
  type: string;
  status: string;
  reason: string;
  message: string;
}
type WithStatus = { status?: { conditions?: Cond[] } & Record<string, unknown> };
const cond = (o: WithStatus | undefined, type: string) => o?.status?.conditions?.find((c) => c.type === type);

const servedEndpoints = (backendId: string) => probeServedEndpoints(PROXIES, backendId);

/** One slice per replica of Service vllm in `ns`; an absent replica has an empty slice. */
const backendSlices = (ns: string, state: Partial<Record<Pod, PodState>>) =>
  PODS.map((pod) => {
    const s = state[pod] ?? 'absent';
    const eps = s === 'absent' ? [] : [{ ip: HOST as string, pod, ready: s === 'ready' }];
    return endpointSliceYaml(ns, 'vllm', ports.replicas[pod], eps, { name: pod });
  }).join('---\n');

/** Pool `chat` of `ns` over backends vllm (weight 1) and vllm-b (weight `weightB`). */
const poolYaml = (ns: string, weightB: number) => `apiVersion: switchyard.dev/v1alpha1
kind: LLMPool
metadata: { name: chat, namespace: ${ns} }
spec:
  model: chat-${ns}
  backendRefs: [{ name: vllm, weight: 1 }, { name: vllm-b, weight: ${weightB} }]
  scheduling: { strategy: weighted-round-robin }
`;

/**
 * A namespace of the scenario's own with Service vllm (replicas as `state` says) and backend vllm on it, Service
 * vllm-b with its one replica and backend vllm-b, and pool chat over both; returns the pool's model name once
 * every proxy serves it.
 */
async function deployChat(ns: string, state: Partial<Record<Pod, PodState>>, weightB = 0): Promise<string> {
  const model = `chat-${ns}`;
  await apply(`apiVersion: v1
kind: Namespace
metadata: { name: ${ns} }
---
${serviceYaml(ns, 'vllm', 8000)}---
${backendSlices(ns, state)}---
${serviceYaml(ns, 'vllm-b', 8000)}---
${endpointSliceYaml(ns, 'vllm-b', ports.replicas['vllm-b-0'], [{ ip: HOST as string, pod: 'vllm-b-0' }])}---
apiVersion: switchyard.dev/v1alpha1
kind: LLMBackend
metadata: { name: vllm, namespace: ${ns} }
spec:
  provider: vllm
  serviceRef: { name: vllm, port: http }
  models: [{ name: ${model}, upstreamName: org/chat-8b }]
---
apiVersion: switchyard.dev/v1alpha1
kind: LLMBackend
metadata: { name: vllm-b, namespace: ${ns} }
spec:
  provider: vllm
  serviceRef: { name: vllm-b, port: 8000 }
  models: [{ name: ${model}, upstreamName: chat-model }]
---
${poolYaml(ns, weightB)}`);
  await waitFor(() => everyProxyServes(model), 30_000, `every proxy to serve ${model}`);
  return model;
}

/** Every proxy answers `model` with 200. */
const everyProxyServes = async (model: string) =>
  (await Promise.all(PROXIES.map((p) => chat(p, model)))).every((r) => r.status === 200);

const running = (p: Proc | undefined) => p !== undefined && p.child.exitCode === null && p.child.signalCode === null;

/** Operator A runs and leads: started again when a scenario before this one left none running. */
async function operatorALeads(): Promise<void> {
  if (!running(operatorA)) operatorA = startOperator('op-a', ports.opA);
  await waitFor(
    async () => (await metric(ports.opA, 'switchyard_operator_leader')) === 1,
    30_000,
    'operator A to lead',
  );
}

function startOperator(identity: string, metricsPort: number): Proc {
  const p = startOperatorProcess({
    kubeconfig: operatorKubeconfig,
    identity,
    metricsPort,
    proxyService: `${SYS}/switchyard-proxy`,
    proxyAdminPort: 'admin',
    token: TOKEN,
    logDir,
    extraArgs: ['--resync', '5s'],
  });
  procs.push(p);
  return p;
}

beforeAll(async () => {
  if (!HOST) throw new Error('no non-loopback IPv4 address: EndpointSlices cannot point at this machine');
  logDir = await mkdtemp(join(tmpdir(), 'switchyard-e2e-'));
  // Simulators and proxies pick free ports themselves (port 0), so parallel test files cannot collide.
  for (const name of ['vllm-0', 'vllm-1', 'vllm-2', 'vllm-b-0']) {
    sims.set(
      name,
      await startSimulator({ flavour: 'vllm', host: HOST, port: 0, models: ['org/chat-8b', 'chat-model'] }),
    );
  }
  const replicaPort = (name: string) => sims.get(name)?.port as number;
  ports = {
    opA: await freePort(),
    opB: await freePort(),
    replicas: {
      'vllm-0': replicaPort('vllm-0'),
      'vllm-1': replicaPort('vllm-1'),
      'vllm-2': replicaPort('vllm-2'),
      'vllm-b-0': replicaPort('vllm-b-0'),
    },
  };
  const proxyProcs = await Promise.all(
    ['proxy-0', 'proxy-1'].map((name) => startProxyProcess({ host: HOST as string, token: TOKEN, logDir, name })),
  );
  procs.push(...proxyProcs);
  PROXIES = proxyProcs.map((p, i) => ({
    name: `proxy-${i}`,
    host: HOST as string,
    traffic: p.port,
    admin: p.adminPort,
  }));
  cp = await startControlPlane();
  await installCrds(cp);
  await apply(
    `apiVersion: v1\nkind: Namespace\nmetadata: { name: ${NS} }\n---\napiVersion: v1\nkind: Namespace\nmetadata: { name: ${SYS} }\n`,
  );
  // The operator runs as a ServiceAccount with only the RBAC rules the chart grants.
  operatorKubeconfig = await operatorServiceAccountKubeconfig(cp, SYS);
  await apply(proxyServiceYaml(SYS, HOST, PROXIES));
  await waitFor(
    async () => {
      const up = await Promise.all(
        PROXIES.map((p) =>
          fetch(`http://${HOST}:${p.admin}/healthz`).then(
            (r) => r.ok,
            () => false,
          ),
        ),
      );
      return up.every(Boolean);
    },
    60_000,
    'proxies to start',
  );
  await operatorALeads();
  console.log(`[e2e] logs in ${logDir}`);
}, 180_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
  await Promise.all([...sims.values()].map((s) => s.kill()));
  await cp?.stop();
});

beforeEach(operatorALeads, 60_000);

describe('operator end to end', () => {
  it('apply → every proxy serves the pool from the Service replicas', async () => {
    const ns = 'e2e-apply';
    const t0 = performance.now();
    const model = await deployChat(ns, { 'vllm-0': 'ready', 'vllm-1': 'ready' });
    console.log(`[e2e] apply → all proxies serving: ${(performance.now() - t0).toFixed(0)} ms (incl. kubectl apply)`);
    for (const proxy of PROXIES) {
      const counts = await spread(proxy, model, 8);
      expect([...counts.keys()].sort()).toEqual([`${ns}/vllm/vllm-0`, `${ns}/vllm/vllm-1`]);
    }
  });

  it('writes status: conditions, endpoints, proxies in sync, printer columns', async () => {
    const ns = 'e2e-status';
    const model = await deployChat(ns, { 'vllm-0': 'ready', 'vllm-1': 'ready' });
    const all = `${PROXIES.length}/${PROXIES.length}`;
    await waitFor(
      async () => {
        const pool = await getJson<WithStatus>(['llmpool', 'chat', '-n', ns]);
        return (
          cond(pool, 'Ready')?.reason === 'Ready' &&
          pool?.status?.proxiesInSync === all &&
          pool.status.endpoints === '3/3'
        );
      },
      20_000,
      'pool status',
    );
    const backend = await getJson<WithStatus & { metadata: { generation: number } }>(['llmbackend', 'vllm', '-n', ns]);
    expect(backend?.status).toMatchObject({ readyReplicas: 2, totalReplicas: 2, replicas: '2/2' });
    expect(cond(backend, 'ResolvedRefs')).toMatchObject({ status: 'True' });
    expect(backend?.status?.conditions?.[0]).toMatchObject({ observedGeneration: backend?.metadata.generation });
    const table = await cp.kubectl(['get', 'llmpools', '-n', ns]);
    expect(table.stdout).toMatch(new RegExp(`chat\\s+${model}\\s+True\\s+3/3\\s+${all}`));
  });

  it('scale-up: a new EndpointSlice endpoint takes traffic', async () => {
    const ns = 'e2e-scale-up';
    const model = await deployChat(ns, { 'vllm-0': 'ready', 'vllm-1': 'ready' });
    await apply(backendSlices(ns, { 'vllm-0': 'ready', 'vllm-1': 'ready', 'vllm-2': 'ready' }));
    for (const proxy of PROXIES) {
      await waitFor(
        async () => (await spread(proxy, model, 3)).has(`${ns}/vllm/vllm-2`),
        20_000,
        `vllm-2 via ${proxy.name}`,
      );
    }
  });

  it('not-ready: a replica marked not ready gets no traffic', async () => {
    const ns = 'e2e-not-ready';
    const model = await deployChat(ns, { 'vllm-0': 'ready', 'vllm-1': 'ready', 'vllm-2': 'ready' });
    await apply(backendSlices(ns, { 'vllm-0': 'not-ready', 'vllm-1': 'ready', 'vllm-2': 'ready' }));
    await waitFor(
      async () =>
        (await servedEndpoints(`${ns}/vllm`)).every((ids) => ids.join() === `${ns}/vllm/vllm-1,${ns}/vllm/vllm-2`),
      20_000,
      'proxies to drop vllm-0',
    );
    const chats = (pod: string) => sims.get(pod)?.stats().byPath['/v1/chat/completions'] ?? 0;
    const before = chats('vllm-0');
    for (const proxy of PROXIES) {
      const counts = await spread(proxy, model, 12);
      expect([...counts.keys()].sort()).toEqual([`${ns}/vllm/vllm-1`, `${ns}/vllm/vllm-2`]);
    }
    expect(chats('vllm-0')).toBe(before); // the replica itself saw no request
    await waitFor(
      async () => {
        const backend = await getJson<WithStatus>(['llmbackend', 'vllm', '-n', ns]);
        return backend?.status?.readyReplicas === 2 && backend.status.totalReplicas === 3;
      },
      20_000,
      'backend status 2 of 3 replicas ready',
    );
  });

  it('weights: the distribution follows the pool weights', async () => {
    // vllm: 2 ready replicas × weight 1; vllm-b: 1 replica × weight 6 → vllm-b gets 6/8 of the traffic.
    const ns = 'e2e-weights';
    const model = await deployChat(ns, { 'vllm-0': 'ready', 'vllm-1': 'ready' }, 6);
    // A proxy serves the model from the first snapshot that has any replica of it; measure once every proxy has all
    // three (vllm-b once measured 0.3, as when a snapshot with a replica more arrives in the middle of the 40).
    await waitFor(
      async () =>
        (await servedEndpoints(`${ns}/vllm`)).every((ids) => ids.join() === `${ns}/vllm/vllm-0,${ns}/vllm/vllm-1`) &&
        (await servedEndpoints(`${ns}/vllm-b`)).every((ids) => ids.join() === `${ns}/vllm-b/vllm-b-0`),
      30_000,
      'every proxy to serve the three replicas',
    );
    for (const proxy of PROXIES) {
      const counts = await spread(proxy, model, 40);
      const share = (counts.get(`${ns}/vllm-b/vllm-b-0`) ?? 0) / 40;
      expect(share).toBeGreaterThan(0.6);
      expect(share).toBeLessThan(0.9);
    }
  });

  it('a pool referencing a missing backend gets ResolvedRefs=False; the rest keeps working', async () => {
    const ns = 'e2e-missing-backend';
    const model = await deployChat(ns, { 'vllm-0': 'ready' });
    await apply(`apiVersion: switchyard.dev/v1alpha1
kind: LLMPool
metadata: { name: broken, namespace: ${ns} }
spec:
  model: broken-${ns}
  backendRefs: [{ name: does-not-exist }]
`);
    await waitFor(
      async () => cond(await getJson<WithStatus>(['llmpool', 'broken', '-n', ns]), 'ResolvedRefs')?.status === 'False',
      20_000,
      'ResolvedRefs=False',
    );
    const pool = await getJson<WithStatus>(['llmpool', 'broken', '-n', ns]);
    expect(cond(pool, 'ResolvedRefs')).toMatchObject({ reason: 'BackendNotFound' });
    expect(cond(pool, 'ResolvedRefs')?.message).toContain('spec.backendRefs[0].name');
    expect(await everyProxyServes(model)).toBe(true);
    await waitFor(
      async () =>
        (
          await cp.kubectl(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=broken'])
        ).stdout.includes('BackendNotFound'),
      20_000,
      'a BackendNotFound event on the pool',
    );
  });

  it('a proxy pod that appears later gets the current snapshot by push', async () => {
    const ns = 'e2e-late-proxy';
    const model = await deployChat(ns, { 'vllm-0': 'ready' });
    const late = await startProxyProcess({ host: HOST as string, token: TOKEN, logDir, name: 'proxy-late' });
    procs.push(late);
    const proxy = { name: 'proxy-late', host: HOST as string, traffic: late.port, admin: late.adminPort };
    try {
      expect(await proxyConfig(proxy)).toBeUndefined(); // no snapshot yet: not ready
      await apply(
        endpointSliceYaml(
          SYS,
          'switchyard-proxy',
          proxy.admin,
          [{ ip: HOST as string, pod: proxy.name, ready: false }],
          {
            name: proxy.name,
            portName: 'admin',
          },
        ),
      );
      const version = (await proxyConfig(PROXIES[0]!))?.version;
      await waitFor(
        async () => (await proxyConfig(proxy))?.version === version,
        20_000,
        'the late proxy to get the snapshot',
      );
      expect((await chat(proxy, model)).status).toBe(200);
      const all = `${PROXIES.length + 1}/${PROXIES.length + 1}`;
      await waitFor(
        async () => (await getJson<WithStatus>(['llmpool', 'chat', '-n', ns]))?.status?.proxiesInSync === all,
        20_000,
        `proxiesInSync ${all}`,
      );
    } finally {
      // leave the fleet as it was: the late proxy's pod goes away
      await cp.kubectl(['delete', 'endpointslice', proxy.name, '-n', SYS]);
      await late.kill('SIGTERM');
    }
    const back = `${PROXIES.length}/${PROXIES.length}`;
    await waitFor(
      async () => (await getJson<WithStatus>(['llmpool', 'chat', '-n', ns]))?.status?.proxiesInSync === back,
      20_000,
      `proxiesInSync ${back} once the late proxy left`,
    );
  });

  it('kill the operator: proxies keep serving; restart: converges without a push storm', async () => {
    const ns = 'e2e-restart';
    const model = await deployChat(ns, { 'vllm-0': 'ready', 'vllm-1': 'ready' });
    await operatorA?.kill('SIGKILL');
    for (const proxy of PROXIES) expect((await chat(proxy, model)).status).toBe(200);
    // A change while the operator is down (scale-down to one replica)…
    await apply(backendSlices(ns, { 'vllm-1': 'ready' }));
    for (const proxy of PROXIES) expect((await chat(proxy, model)).status).toBe(200);
    // …is delivered by the restarted operator with one PUT per proxy,
    await operatorALeads();
    await waitFor(
      async () => (await servedEndpoints(`${ns}/vllm`)).every((ids) => ids.join() === `${ns}/vllm/vllm-1`),
      30_000,
      'restarted operator to converge',
    );
    // and so is the next change: had the restart pushed anything more, it would show in the count after it.
    await apply(backendSlices(ns, { 'vllm-1': 'ready', 'vllm-2': 'ready' }));
    await waitFor(
      async () =>
        (await servedEndpoints(`${ns}/vllm`)).every((ids) => ids.join() === `${ns}/vllm/vllm-1,${ns}/vllm/vllm-2`),
      30_000,
      'the next change to reach every proxy',
    );
    expect(await metric(ports.opA, 'switchyard_operator_pushes_total', 'result="ok"')).toBe(2 * PROXIES.length);
    expect(await metric(ports.opA, 'switchyard_operator_pushes_total', 'result="error"')).toBe(0);
    // per proxy pod (label proxy = pod name from the EndpointSlice): exactly two PUTs each
    for (const p of PROXIES) {
      expect(await metric(ports.opA, 'switchyard_operator_pushes_total', `proxy="${p.name}"`), p.name).toBe(2);
      expect(await metric(ports.opA, 'switchyard_operator_push_duration_seconds_count', `proxy="${p.name}"`)).toBe(2);
    }
    // reconciles and queue wait by controller
    for (const controller of ['snapshot', 'llmbackend', 'llmpool']) {
      const label = `controller="${controller}"`;
      expect(await metric(ports.opA, 'switchyard_operator_reconciles_total', label), controller).toBeGreaterThan(0);
      expect(await metric(ports.opA, 'switchyard_operator_queue_wait_seconds_count', label)).toBeGreaterThan(0);
    }
  });

  it('two operators: only the leader pushes; killing it hands over to the standby', async () => {
    const ns = 'e2e-failover';
    await deployChat(ns, { 'vllm-0': 'ready' });
    const opB = startOperator('op-b', ports.opB);
    try {
      await waitFor(
        async () =>
          await fetch(`http://127.0.0.1:${ports.opB}/readyz`).then(
            (r) => r.ok,
            () => false,
          ),
        30_000,
        'operator B ready',
      );
      expect(await metric(ports.opB, 'switchyard_operator_leader')).toBe(0);
      const pushesA = await metric(ports.opA, 'switchyard_operator_pushes_total');
      await apply(backendSlices(ns, { 'vllm-1': 'ready', 'vllm-2': 'ready' }));
      await waitFor(
        async () =>
          (await servedEndpoints(`${ns}/vllm`)).every((ids) => ids.join() === `${ns}/vllm/vllm-1,${ns}/vllm/vllm-2`),
        20_000,
        'leader to push',
      );
      expect(await metric(ports.opA, 'switchyard_operator_pushes_total')).toBeGreaterThan(pushesA);
      expect(await metric(ports.opB, 'switchyard_operator_pushes_total')).toBe(0);

      const killedAt = performance.now();
      await operatorA?.kill('SIGKILL'); // no graceful release: B must wait for the lease to expire
      await waitFor(
        async () => (await metric(ports.opB, 'switchyard_operator_leader')) === 1,
        20_000,
        'operator B to lead',
      );
      console.log(`[e2e] failover after leader kill: ${(performance.now() - killedAt).toFixed(0)} ms (lease 4 s)`);
      await apply(backendSlices(ns, { 'vllm-2': 'ready' }));
      await waitFor(
        async () => (await servedEndpoints(`${ns}/vllm`)).every((ids) => ids.join() === `${ns}/vllm/vllm-2`),
        20_000,
        'new leader to push',
      );
      await opB.kill('SIGTERM'); // graceful: releases the Lease
      const lease = await getJson<{ spec: { holderIdentity?: string } }>(['lease', 'switchyard-operator', '-n', SYS]);
      expect(lease?.spec.holderIdentity ?? '').toBe('');
    } finally {
      await opB.kill('SIGKILL');
    }
  });

  it('delete a pool → 404 for its model on every proxy', async () => {
    const ns = 'e2e-delete';
    const model = await deployChat(ns, { 'vllm-0': 'ready' });
    const del = await cp.kubectl(['delete', 'llmpool', 'chat', '-n', ns]);
    expect(del.code, del.stderr).toBe(0);
    await waitFor(
      async () => (await Promise.all(PROXIES.map((p) => chat(p, model)))).every((r) => r.status === 404),
      30_000,
      `404 for ${model}`,
    );
  });
});
