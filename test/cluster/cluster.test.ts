/**
 * Switchyard on a real one-node cluster (index.ts): `helm install` of the chart with the images built from the
 * Dockerfiles, the upstream simulator as a Deployment behind a Service, an LLMBackend whose endpoints come from the
 * EndpointSlices of real pods, and the official `openai` SDK calling the proxy's Service from a pod — through
 * scaling, pod deletions, a rolling update of the proxies, the loss of the operator's leader, `helm upgrade`,
 * `helm test` and `helm uninstall`. The tests run in order and share the cluster.
 *
 * `SWITCHYARD_SKIP_CLUSTER=1` skips this file (quick local loops only; CI never sets it).
 */
import { readdir, readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHART } from '../chart/helm.js';
import { type Cluster, SKIP_CLUSTER, startCluster } from './index.js';
import type { TrafficReport } from './testkit/client.js';

const NS = 'switchyard';
const MODELS = 'models';
const APPS = 'apps';
const RELEASE = 'sy';
const MODEL = 'sim-model';
const PROXY_URL = `http://${RELEASE}.${NS}.svc.cluster.local:8080/v1`;
const MINUTE = 60_000;
const PROXY = 'app.kubernetes.io/component=proxy';
const OPERATOR = 'app.kubernetes.io/component=operator';

/** Figures of this run, printed at the end (the README quotes them). */
const figures: Record<string, unknown> = {};

let cluster: Cluster;
let clientIp = '';

async function ok(what: string, run: Promise<{ code: number; stdout: string; stderr: string }>): Promise<string> {
  const res = await run;
  if (res.code !== 0) throw new Error(`${what} failed (${res.code}): ${res.stderr}${res.stdout.slice(0, 2000)}`);
  return res.stdout;
}

async function kubectl(...args: string[]): Promise<string> {
  return ok(`kubectl ${args.join(' ')}`, cluster.kubectl(args, { timeoutMs: 5 * MINUTE }));
}

async function apply(yaml: string): Promise<void> {
  await ok('kubectl apply', cluster.kubectl(['apply', '-f', '-'], { input: yaml }));
}

async function jsonpath(kind: string, name: string, ns: string, path: string): Promise<string> {
  const res = await cluster.kubectl(['get', kind, name, '-n', ns, '-o', `jsonpath={${path}}`]);
  return res.code === 0 ? res.stdout.trim() : '';
}

/** Polls `check` until it returns a value (not undefined), up to `timeoutMs`. */
async function eventually<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      const pods = await cluster.kubectl(['get', 'pods', '-A', '-o', 'wide']);
      throw new Error(`${what}: not within ${timeoutMs / 1000} s\n${pods.stdout}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function readyReplicas(): Promise<number | undefined> {
  const v = await jsonpath('llmbackend', 'sim', MODELS, '.status.readyReplicas');
  return v === '' ? undefined : Number(v);
}

async function waitBackendReplicas(n: number): Promise<void> {
  await eventually(`LLMBackend sim with ${n} ready replicas`, 3 * MINUTE, async () =>
    (await readyReplicas()) === n ? true : undefined,
  );
}

async function client(path: string, body: unknown): Promise<unknown> {
  const res = await fetch(`http://${clientIp}:8000${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5 * MINUTE),
  });
  const json: unknown = await res.json();
  if (!res.ok) throw new Error(`client ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** Runs `during` while the client pod sends traffic through the proxy Service; returns what the client saw. */
async function underTraffic(
  spec: { stream: boolean; concurrency: number; maxTokens?: number },
  during: () => Promise<void>,
): Promise<TrafficReport> {
  const { id } = (await client('/traffic/start', { baseURL: PROXY_URL, model: MODEL, ...spec })) as { id: string };
  // stop the traffic even when `during` failed, so the client pod is free for the next test
  const failure = await during().then(
    () => undefined,
    (err: unknown) => err,
  );
  const report = (await client(`/traffic/${id}/stop`, {})) as TrafficReport;
  if (failure) throw failure;
  return report;
}

/** Names of the pods matching `selector` that are not terminating. */
async function livePods(ns: string, selector: string): Promise<string[]> {
  const list = JSON.parse(await kubectl('get', 'pods', '-n', ns, '-l', selector, '-o', 'json')) as {
    items: { metadata: { name: string; deletionTimestamp?: string } }[];
  };
  return list.items.filter((p) => !p.metadata.deletionTimestamp).map((p) => p.metadata.name);
}

/**
 * The sim replicas (pod names: the last segment of the endpoint label) each proxy pod routes to, from
 * `switchyard_endpoint_up` on its admin port, read over the bridge.
 */
async function proxyEndpoints(): Promise<string[][]> {
  const ips = (
    await kubectl(
      'get',
      'pods',
      '-n',
      NS,
      '-l',
      'app.kubernetes.io/component=proxy',
      '--field-selector=status.phase=Running',
      '-o',
      'jsonpath={.items[*].status.podIP}',
    )
  )
    .trim()
    .split(/\s+/);
  return Promise.all(
    ips.map(async (ip) => {
      const text = await (await fetch(`http://${ip}:9090/metrics`, { signal: AbortSignal.timeout(5000) })).text();
      return [...text.matchAll(/^switchyard_endpoint_up\{backend="models\/sim",endpoint="(?:[^"]*\/)?([^"/]+)"\} 1$/gm)]
        .map((m) => m[1] as string)
        .sort();
    }),
  );
}

/** The host PIDs of the processes whose command line contains `needle`, inside this cluster's cgroups. */
async function hostPids(needle: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    const cgroup = await readFile(`/proc/${entry}/cgroup`, 'utf8').catch(() => '');
    if (cmdline.includes(needle) && cgroup.includes('kubepods')) pids.push(Number(entry));
  }
  return pids;
}

const simManifests = (replicas: number) => `
apiVersion: apps/v1
kind: Deployment
metadata: { name: sim, namespace: ${MODELS} }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: sim } }
  template:
    metadata: { labels: { app: sim } }
    spec:
      terminationGracePeriodSeconds: 5
      containers:
        - name: sim
          image: ${cluster.manifest.images.testkit.name}
          imagePullPolicy: Never
          args: [dist/test/sim/cli.js, --flavour, vllm, --host, 0.0.0.0, --port, "8000", --model, ${MODEL},
                 --ttft-ms, "20", --itl-ms, "10"]
          ports: [{ name: http, containerPort: 8000 }]
          readinessProbe: { httpGet: { path: /health, port: http }, periodSeconds: 1 }
          resources: { requests: { cpu: 10m, memory: 64Mi }, limits: { memory: 256Mi } }
---
apiVersion: v1
kind: Service
metadata: { name: sim, namespace: ${MODELS} }
spec:
  selector: { app: sim }
  ports: [{ name: http, port: 8000, targetPort: http }]
---
apiVersion: switchyard.dev/v1alpha1
kind: LLMBackend
metadata: { name: sim, namespace: ${MODELS} }
spec:
  provider: vllm
  serviceRef: { name: sim, port: http }
  models: [{ name: ${MODEL} }]
  healthCheck: { interval: 1s }
---
apiVersion: switchyard.dev/v1alpha1
kind: LLMPool
metadata: { name: sim, namespace: ${MODELS} }
spec:
  model: ${MODEL}
  backendRefs: [{ name: sim }]
`;

const clientManifest = () => `
apiVersion: v1
kind: Pod
metadata: { name: client, namespace: ${APPS} }
spec:
  containers:
    - name: client
      image: ${cluster.manifest.images.testkit.name}
      imagePullPolicy: Never
      args: [dist/test/cluster/testkit/client.js]
      readinessProbe: { httpGet: { path: /healthz, port: 8000 }, periodSeconds: 1 }
`;

describe.skipIf(SKIP_CLUSTER)('Switchyard on a one-node cluster', () => {
  beforeAll(async () => {
    cluster = await startCluster();
    for (const ns of [MODELS, APPS]) await kubectl('create', 'namespace', ns);
  }, 60 * MINUTE);

  afterAll(async () => {
    if (Object.keys(figures).length) process.stderr.write(`[cluster] figures: ${JSON.stringify(figures)}\n`);
    await cluster?.stop();
  }, 5 * MINUTE);

  it(
    'installs the chart with the built images: proxies ready with a pushed snapshot, one operator elected',
    async () => {
      const started = Date.now();
      await ok(
        'helm install',
        cluster.helm(
          [
            'install',
            RELEASE,
            CHART,
            '-n',
            NS,
            '--create-namespace',
            ...cluster.imageValues(),
            '--set=operator.replicas=2',
            '--set=operator.podDisruptionBudget.enabled=true',
            '--wait',
            '--timeout=10m',
          ],
          { timeoutMs: 11 * MINUTE },
        ),
      );
      figures.helmInstallSeconds = Math.round((Date.now() - started) / 1000);
      expect(await jsonpath('deploy', RELEASE, NS, '.status.readyReplicas')).toBe('2');
      const holder = await eventually('an operator leader', MINUTE, async () => {
        const h = await jsonpath('lease', `${RELEASE}-operator`, NS, '.spec.holderIdentity');
        return h || undefined;
      });
      const operators = await livePods(NS, OPERATOR);
      expect(operators).toHaveLength(2);
      expect(operators).toContain(holder);
    },
    12 * MINUTE,
  );

  it('runs every container as uid 65532 under seccomp, without capabilities, on a read-only root, within its memory limit', async () => {
    for (const [component, needle, limit] of [
      ['proxy', 'dist/proxy/src/main.js', 512 * 1024 * 1024],
      ['operator', 'dist/operator/src/main.js', 256 * 1024 * 1024],
    ] as const) {
      const pids = await hostPids(needle);
      expect(pids.length, component).toBeGreaterThanOrEqual(2); // two pods each
      for (const pid of pids) {
        const status = await readFile(`/proc/${pid}/status`, 'utf8');
        const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1]?.trim();
        expect(field('Uid')?.split(/\s+/), component).toEqual(['65532', '65532', '65532', '65532']);
        expect(field('CapEff'), component).toBe('0000000000000000');
        expect(field('NoNewPrivs'), component).toBe('1');
        expect(field('Seccomp'), component).toBe('2'); // filter mode: the runtime's default profile
        const mountinfo = await readFile(`/proc/${pid}/mountinfo`, 'utf8');
        const root = mountinfo.split('\n').find((l) => l.split(' ')[4] === '/');
        expect(root?.split(' ')[5]?.split(','), component).toContain('ro');
        const memory = /^\d+:memory:(.*)$/m.exec(await readFile(`/proc/${pid}/cgroup`, 'utf8'))?.[1];
        const max = await readFile(`/sys/fs/cgroup/memory${memory}/memory.limit_in_bytes`, 'utf8');
        expect(Number(max), component).toBe(limit);
      }
    }
  });

  it(
    'routes to a simulator Deployment behind a Service: the LLMBackend takes its replicas from real EndpointSlices',
    async () => {
      await apply(simManifests(2));
      await waitBackendReplicas(2);
      const slices = await kubectl(
        'get',
        'endpointslices',
        '-n',
        MODELS,
        '-l',
        'kubernetes.io/service-name=sim',
        '-o',
        'jsonpath={.items[*].endpoints[*].addresses[0]}',
      );
      expect(slices.trim().split(/\s+/)).toHaveLength(2);
      expect(await jsonpath('llmbackend', 'sim', MODELS, '.status.totalReplicas')).toBe('2');
    },
    5 * MINUTE,
  );

  it(
    'serves the openai SDK in a client pod through the proxy Service (ClusterIP, CoreDNS)',
    async () => {
      await apply(clientManifest());
      await kubectl('wait', '--for=condition=Ready', 'pod/client', '-n', APPS, '--timeout=180s');
      clientIp = await jsonpath('pod', 'client', APPS, '.status.podIP');
      const report = await underTraffic(
        { stream: false, concurrency: 2 },
        () => new Promise((r) => setTimeout(r, 3000)),
      );
      expect(report.failed, JSON.stringify(report)).toBe(0);
      expect(report.ok).toBeGreaterThan(5);
      const streamed = await underTraffic(
        { stream: true, concurrency: 2 },
        () => new Promise((r) => setTimeout(r, 3000)),
      );
      expect(streamed.failed, JSON.stringify(streamed)).toBe(0);
      expect(streamed.ok).toBeGreaterThan(2);
    },
    5 * MINUTE,
  );

  it(
    'loses no non-streaming request while the model Deployment scales up and down and its pods are deleted',
    async () => {
      const report = await underTraffic({ stream: false, concurrency: 4 }, async () => {
        await kubectl('scale', 'deploy/sim', '-n', MODELS, '--replicas=4');
        await waitBackendReplicas(4);
        const pods = (await kubectl('get', 'pods', '-n', MODELS, '-l', 'app=sim', '-o', 'name')).trim().split('\n');
        await kubectl('delete', pods[0] as string, pods[1] as string, '-n', MODELS, '--wait=false');
        await eventually('the deleted replicas replaced', 3 * MINUTE, async () => {
          const ready = await readyReplicas();
          const names = (await kubectl('get', 'pods', '-n', MODELS, '-l', 'app=sim', '-o', 'name')).trim().split('\n');
          return ready === 4 && !names.includes(pods[0] as string) ? true : undefined;
        });
        await kubectl('scale', 'deploy/sim', '-n', MODELS, '--replicas=1');
        await waitBackendReplicas(1);
      });
      figures.scaling = report;
      expect(report.failed, JSON.stringify(report)).toBe(0);
      expect(report.ok).toBeGreaterThan(50);
    },
    10 * MINUTE,
  );

  it(
    'completes every stream, without a 5xx, through a rolling update of the proxy Deployment',
    async () => {
      await kubectl('scale', 'deploy/sim', '-n', MODELS, '--replicas=2');
      await waitBackendReplicas(2);
      const before = await livePods(NS, PROXY);
      const report = await underTraffic({ stream: true, concurrency: 4, maxTokens: 64 }, async () => {
        await kubectl('rollout', 'restart', `deploy/${RELEASE}`, '-n', NS);
        await kubectl('rollout', 'status', `deploy/${RELEASE}`, '-n', NS, '--timeout=5m');
      });
      figures.rollingUpdate = report;
      const after = await livePods(NS, PROXY);
      expect(after).toHaveLength(2);
      expect(after.filter((p) => before.includes(p))).toEqual([]);
      expect(report.failed, JSON.stringify(report)).toBe(0);
      expect(report.ok).toBeGreaterThan(20);
    },
    10 * MINUTE,
  );

  it(
    'elects the standby when the leader pod is deleted, and pushes resume',
    async () => {
      const holder = await jsonpath('lease', `${RELEASE}-operator`, NS, '.spec.holderIdentity');
      const leaderPod = (await livePods(NS, OPERATOR)).find((p) => p === holder);
      expect(leaderPod).toBeDefined();
      const deleted = Date.now();
      await kubectl('delete', 'pod', leaderPod as string, '-n', NS, '--wait=false');
      const next = await eventually('a new leader', 3 * MINUTE, async () => {
        const h = await jsonpath('lease', `${RELEASE}-operator`, NS, '.spec.holderIdentity');
        return h && h !== leaderPod ? h : undefined;
      });
      figures.newLeaderSeconds = Math.round((Date.now() - deleted) / 100) / 10;
      expect(next).not.toContain(leaderPod);
      // pushes resume: a change made now reaches every proxy (a third replica joins the pool)
      const report = await underTraffic({ stream: false, concurrency: 2 }, async () => {
        await kubectl('scale', 'deploy/sim', '-n', MODELS, '--replicas=3');
        await waitBackendReplicas(3);
        await eventually('every proxy routing to the 3 replicas', 2 * MINUTE, async () => {
          const pods = (
            await kubectl('get', 'pods', '-n', MODELS, '-l', 'app=sim', '-o', 'jsonpath={.items[*].metadata.name}')
          )
            .trim()
            .split(/\s+/)
            .sort();
          const seen = await proxyEndpoints();
          return pods.length === 3 && seen.length === 2 && seen.every((s) => s.join() === pods.join())
            ? true
            : undefined;
        });
      });
      figures.pushResumedSeconds = Math.round((Date.now() - deleted) / 100) / 10;
      expect(report.failed, JSON.stringify(report)).toBe(0);
    },
    10 * MINUTE,
  );

  it(
    'enforces the PodDisruptionBudget of the proxies on evictions',
    async () => {
      const pods = await livePods(NS, PROXY);
      const evict = (pod: string) =>
        cluster.kubectl(['create', '--raw', `/api/v1/namespaces/${NS}/pods/${pod}/eviction`, '-f', '-'], {
          input: JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace: NS } }),
        });
      const first = await evict(pods[0] as string);
      expect(first.code, first.stderr).toBe(0);
      const second = await evict(pods[1] as string);
      expect(second.code).not.toBe(0);
      expect(second.stderr).toMatch(/disruption budget/i);
      await kubectl('rollout', 'status', `deploy/${RELEASE}`, '-n', NS, '--timeout=5m');
    },
    10 * MINUTE,
  );

  it(
    'upgrades with helm, passes helm test, and uninstalls leaving only what is documented',
    async () => {
      const token = await jsonpath('secret', `${RELEASE}-push-token`, NS, '.data.token');
      await ok(
        'helm upgrade',
        cluster.helm(
          [
            'upgrade',
            RELEASE,
            CHART,
            '-n',
            NS,
            ...cluster.imageValues(),
            '--set=operator.replicas=2',
            '--set=proxy.logLevel=debug',
            '--wait',
            '--timeout=10m',
          ],
          { timeoutMs: 11 * MINUTE },
        ),
      );
      expect(await jsonpath('secret', `${RELEASE}-push-token`, NS, '.data.token')).toBe(token);
      const test = await ok(
        'helm test',
        cluster.helm(['test', RELEASE, '-n', NS, '--logs'], { timeoutMs: 5 * MINUTE }),
      );
      expect(test).toMatch(/Phase:\s+Succeeded/);
      expect(test).toMatch(/models: sim-model/);
      await ok('helm uninstall', cluster.helm(['uninstall', RELEASE, '-n', NS, '--wait', '--timeout=5m']));
      // the Deployments are gone at once; their pods drain (preStop + drainSeconds) before they are
      const left = await eventually('the release pods gone', 3 * MINUTE, async () => {
        const names = (
          await kubectl(
            'get',
            'all,secrets,configmaps,leases,serviceaccounts,roles,rolebindings',
            '-n',
            NS,
            '-o',
            'name',
          )
        )
          .trim()
          .split('\n')
          .sort();
        return names.some((n) => n.startsWith(`pod/${RELEASE}-`) && n !== `pod/${RELEASE}-test-proxy`)
          ? undefined
          : names;
      });
      figures.leftAfterUninstall = left;
      // what docs/deploy.md says stays: the test hook's pod (kept for `helm test --logs`), the operator's Lease
      // (written by the operator, not the chart), and what Kubernetes puts in every namespace
      expect(left).toEqual([
        'configmap/kube-root-ca.crt',
        `lease.coordination.k8s.io/${RELEASE}-operator`,
        `pod/${RELEASE}-test-proxy`,
        'serviceaccount/default',
      ]);
      const crds = await kubectl('get', 'crd', '-o', 'name');
      expect(crds).toMatch(/llmbackends.switchyard.dev/); // helm never deletes CRDs
    },
    20 * MINUTE,
  );
});
