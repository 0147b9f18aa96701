/**
 * A real one-node Kubernetes cluster for tests: the test control plane (etcd + kube-apiserver) serving on a bridge
 * this harness creates, kube-controller-manager, kube-scheduler, containerd + runc, kubelet, kube-proxy (iptables)
 * and CoreDNS as a pod; pods get addresses on the bridge from the CNI bridge plugin. Everything is built and cached
 * by `build.sh` (README.md beside this file).
 *
 * ```ts
 * const cluster = await startCluster(); // minutes on a cold cache, ~30 s warm; one cluster per machine at a time
 * await cluster.kubectl(['get', 'nodes']);
 * await cluster.helm(['install', 'sy', 'charts/switchyard', …cluster.imageValues()]);
 * await cluster.stop(); // also runs, from a supervisor, when this process dies in any way
 * ```
 *
 * Machine changes (bridge, iptables rules, sysctls, cgroups, mounts) are recorded in `<dir>/state.env` before they
 * are made and undone by `teardown.sh`, which a detached supervisor runs when this process ends (normally or not);
 * the supervisor also holds the machine-wide lock, so a second cluster waits until the first is gone.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import {
  type CommandOptions,
  type CommandResult,
  type ControlPlane,
  run,
  sleep,
  startControlPlane,
} from '../control-plane/index.js';
import { freePort, logTail, type Proc, startProcess, stopProcess } from '../support/processes.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const BUILD_SCRIPT = join(HERE, 'build.sh');
const TEARDOWN_SCRIPT = join(HERE, 'teardown.sh');
const CACHE_ROOT = join(process.env.SWITCHYARD_CACHE_DIR ?? join(process.env.HOME ?? '/root', '.cache/switchyard'));
const DIR_PREFIX = 'switchyard-cluster-';

/** Set to skip the cluster tier in quick local loops (`SWITCHYARD_SKIP_CLUSTER=1 npm test`); CI never sets it. */
export const SKIP_CLUSTER = process.env.SWITCHYARD_SKIP_CLUSTER === '1';

/** The node's addresses: pods on 10.244.0.0/24 behind the bridge's .1, Services on 10.96.0.0/24. */
export const NETWORK = {
  podCidr: '10.244.0.0/24',
  nodeIp: '10.244.0.1',
  serviceCidr: '10.96.0.0/24',
  dnsIp: '10.96.0.10',
} as const;
const NODE_NAME = 'switchyard-node';

const imageSchema = z.object({ name: z.string(), archive: z.string() });
const manifestSchema = z.object({
  binDir: z.string(),
  versions: z.record(z.string(), z.string()),
  images: z.object({
    pause: imageSchema,
    coredns: imageSchema,
    runtime: imageSchema,
    proxy: imageSchema,
    operator: imageSchema,
    testkit: imageSchema,
  }),
});
/** What `build.sh` built: the bin dir, component versions, images (name + docker-archive path). */
export type ClusterManifest = z.infer<typeof manifestSchema>;

let manifestPromise: Promise<ClusterManifest> | undefined;

/** Builds (or finds cached) everything the cluster needs; the first run takes many minutes. */
export function clusterManifest(): Promise<ClusterManifest> {
  manifestPromise ??= new Promise<ClusterManifest>((resolve, reject) => {
    const child = spawn('bash', [BUILD_SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const last = stdout.trim().split('\n').at(-1)?.trim();
      if (code !== 0 || !last) {
        reject(new Error(`${BUILD_SCRIPT} failed (exit ${code}); run it by hand to see why`));
        return;
      }
      try {
        resolve(manifestSchema.parse(JSON.parse(readFileSync(last, 'utf8'))));
      } catch (err) {
        reject(err);
      }
    });
  });
  manifestPromise.catch(() => {
    manifestPromise = undefined;
  });
  return manifestPromise;
}

/** A running one-node cluster. */
export interface Cluster {
  /** The control plane (kubectl, helm, kubeconfig, env) of this cluster. */
  cp: ControlPlane;
  manifest: ClusterManifest;
  /** The cluster's directory (logs of every daemon: `<name>.log`). */
  dir: string;
  nodeName: string;
  kubectl(args: string[], opts?: CommandOptions): Promise<CommandResult>;
  helm(args: string[], opts?: CommandOptions): Promise<CommandResult>;
  /** `--set` flags that point the chart at the built proxy and operator images. */
  imageValues(): string[];
  /** The last lines of a daemon's log (containerd, kubelet, kube-proxy, …). */
  logTail(name: string, lines?: number): Promise<string>;
  /** Stops everything and undoes every change to the machine. Idempotent. */
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------------
// The supervisor: takes the machine-wide lock, then waits for our end of a pipe to close (stop() or our death, even
// SIGKILL) and runs teardown.sh before it exits and so releases the lock.

const SUPERVISOR = [
  'exec 3<&0 </dev/null',
  'exec 8>"$1"',
  'flock 8',
  'echo locked',
  'exec 1>>"$4" 2>&1',
  'cat <&3 >/dev/null',
  'bash "$2" "$3"',
].join('\n');

interface Supervisor {
  child: ChildProcess;
  exited: Promise<void>;
}

function startSupervisor(dir: string): Promise<Supervisor> {
  const lock = join(CACHE_ROOT, 'cluster', '.run.lock');
  const log = join(CACHE_ROOT, 'cluster', 'teardown.log');
  const child = spawn('bash', ['-c', SUPERVISOR, 'cluster-supervisor', lock, TEARDOWN_SCRIPT, dir, log], {
    stdio: ['pipe', 'pipe', 'inherit'],
    detached: true,
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      if (out.includes('locked')) {
        child.stdout?.destroy();
        child.unref();
        (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
        resolve({ child, exited });
      }
    });
    child.on('error', reject);
    void exited.then(() => reject(new Error('cluster supervisor exited before taking the lock')));
  });
}

/** Tears down clusters whose supervisor died (we hold the lock, so no other cluster is alive). */
async function teardownStale(own: string): Promise<void> {
  for (const name of await readdir(tmpdir())) {
    const dir = join(tmpdir(), name);
    if (!name.startsWith(DIR_PREFIX) || dir === own) continue;
    const res = await run('bash', [TEARDOWN_SCRIPT, dir], process.env, undefined, 120_000);
    process.stderr.write(`[cluster] tore down a stale cluster in ${dir}\n${res.stderr}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Machine changes, each recorded in state.env before it is made

const SYSCTLS = [
  'net.ipv4.ip_forward',
  'net.bridge.bridge-nf-call-iptables',
  'net.bridge.bridge-nf-call-ip6tables',
  'net.ipv4.conf.all.route_localnet',
  'kernel.panic',
  'kernel.panic_on_oops',
  'kernel.keys.root_maxkeys',
  'kernel.keys.root_maxbytes',
  'vm.overcommit_memory',
  'vm.panic_on_oom',
  'net.netfilter.nf_conntrack_max',
  'net.netfilter.nf_conntrack_tcp_timeout_established',
  'net.netfilter.nf_conntrack_tcp_timeout_close_wait',
];

/**
 * kubelet: /var/lib/kubelet/device-plugins and the /var/log/containers symlinks; containerd 1.6: the shim sockets
 * in /run/containerd/s; the CNI library: its result cache in /var/lib/cni.
 */
const HARDCODED_PATHS = ['/var/lib/kubelet', '/var/log/containers', '/var/log/pods', '/run/containerd', '/var/lib/cni'];

async function sh(cmd: string, args: string[]): Promise<string> {
  const res = await run(cmd, args, process.env, undefined, 60_000);
  if (res.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${res.code}): ${res.stderr.trim()}`);
  return res.stdout;
}

async function prepareMachine(dir: string, id: string): Promise<void> {
  const state = (line: string) => appendFileSync(join(dir, 'state.env'), `${line}\n`);
  for (const name of SYSCTLS) {
    const value = await readFile(`/proc/sys/${name.replaceAll('.', '/')}`, 'utf8').catch(() => undefined);
    if (value !== undefined) state(`sysctl ${name} ${value.trim()}`);
  }
  for (const ipt of ['iptables', 'ip6tables']) {
    const lines: string[] = [];
    for (const table of ['filter', 'nat', 'mangle', 'raw']) {
      const res = await run(ipt, ['-t', table, '-S'], process.env, undefined, 30_000);
      for (const m of res.stdout.matchAll(/^-N (\S+)$/gm)) lines.push(`${table} ${m[1]}`);
    }
    await writeFile(join(dir, `${ipt}-chains.before`), `${lines.join('\n')}\n`);
  }
  // Paths that kubelet, containerd's shims and the CNI library use whatever they are told: removed afterwards when
  // this run created them.
  for (const path of HARDCODED_PATHS) {
    if (!(await stat(path).catch(() => undefined))) state(`CREATED=${path}`);
  }
  for (const cidr of [NETWORK.podCidr, NETWORK.serviceCidr]) {
    const routes = await sh('ip', ['-4', 'route', 'show', 'match', cidr]);
    if (routes.split('\n').some((r) => r && !r.startsWith('default'))) {
      throw new Error(`${cidr} is already routed on this machine (${routes.trim()}); the test cluster needs it`);
    }
  }
  const bridge = `sy${id}`;
  state(`BRIDGE=${bridge}`);
  await sh('ip', ['link', 'add', bridge, 'type', 'bridge']);
  await sh('ip', ['addr', 'add', `${NETWORK.nodeIp}/24`, 'dev', bridge]);
  await sh('ip', ['link', 'set', bridge, 'up']);
  // Pods talk to each other and to the node, never beyond it.
  const tag = `switchyard-cluster-${id}`;
  state(`IPTABLES_TAG=${tag}`);
  for (const dirFlags of [
    ['-i', bridge, '!', '-o', bridge],
    ['!', '-i', bridge, '-o', bridge],
  ]) {
    await sh('iptables', ['-I', 'FORWARD', ...dirFlags, '-m', 'comment', '--comment', tag, '-j', 'DROP']);
  }
  // The cgroup root of every pod, in every hierarchy (kubelet wants it to exist).
  const cgroupName = `switchyard-${id}`;
  state(`CGROUP_NAME=${cgroupName}`);
  const mounts = (await readFile('/proc/self/mounts', 'utf8'))
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f[2] === 'cgroup' || f[2] === 'cgroup2');
  for (const f of mounts) {
    const path = join(f[1] as string, cgroupName);
    await mkdir(path, { recursive: true });
    if ((f[3] ?? '').split(',').includes('cpuset')) {
      for (const file of ['cpuset.cpus', 'cpuset.mems']) {
        await writeFile(join(path, file), await readFile(join(f[1] as string, file), 'utf8'));
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Configuration files

function containerdConfig(dir: string, manifest: ClusterManifest): string {
  const c = join(dir, 'containerd');
  return `version = 2
root = "${c}/root"
state = "${c}/state"
plugin_dir = ""
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "${c}/containerd.sock"
[ttrpc]
  address = "${c}/containerd.sock.ttrpc"
[debug]
  level = "warn"
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "${c}/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${manifest.images.pause.name}"
  disable_apparmor = true
  # this VM cannot lower oom_score_adj: without this every sandbox fails ("can't get final child's PID from pipe")
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  enable_unprivileged_ports = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "${c}/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${dir}/cni/net.d"
`;
}

function cniConfig(dir: string, bridge: string): string {
  return JSON.stringify({
    cniVersion: '0.4.0',
    name: bridge,
    plugins: [
      {
        type: 'bridge',
        bridge,
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: NETWORK.podCidr, gateway: NETWORK.nodeIp }]],
          routes: [{ dst: '0.0.0.0/0' }], // Service IPs are reached through the node
          dataDir: join(dir, 'cni', 'ipam'),
        },
      },
    ],
  });
}

function kubeletConfig(dir: string, cgroupName: string, ports: { kubelet: number; healthz: number }): string {
  return JSON.stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: NETWORK.nodeIp,
    port: ports.kubelet,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: ports.healthz,
    // the apiserver reaches the kubelet (logs, exec) without a client certificate; only the node's bridge sees it
    authentication: { anonymous: { enabled: true }, webhook: { enabled: false } },
    authorization: { mode: 'AlwaysAllow' },
    containerRuntimeEndpoint: `unix://${join(dir, 'containerd', 'containerd.sock')}`,
    // this VM has a hybrid cgroup v1 layout: kubelet 1.37 refuses v1 unless told otherwise
    failCgroupV1: false,
    cgroupDriver: 'cgroupfs',
    cgroupRoot: `/${cgroupName}`,
    failSwapOn: false,
    podCIDR: NETWORK.podCidr,
    clusterDNS: [NETWORK.dnsIp],
    clusterDomain: 'cluster.local',
    resolvConf: join(dir, 'resolv.conf'),
    podLogsDir: join(dir, 'pod-logs'),
    maxPods: 60,
    serializeImagePulls: false,
    // never collect the imported images (nothing can pull them again) nor evict for a busy shared disk
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%' },
    protectKernelDefaults: false,
    shutdownGracePeriod: '0s',
    syncFrequency: '10s',
    fileCheckFrequency: '5s',
  });
}

function kubeProxyConfig(kubeconfig: string, ports: { healthz: number; metrics: number }): string {
  return JSON.stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode: 'iptables',
    clientConnection: { kubeconfig },
    hostnameOverride: NODE_NAME,
    bindAddress: NETWORK.nodeIp,
    healthzBindAddress: `127.0.0.1:${ports.healthz}`,
    metricsBindAddress: `127.0.0.1:${ports.metrics}`,
    clusterCIDR: NETWORK.podCidr,
    nodePortAddresses: [`${NETWORK.nodeIp}/32`],
    // leave the machine's conntrack sysctls and route_localnet as they are
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    iptables: { localhostNodePorts: false, syncPeriod: '30s', minSyncPeriod: '0s' },
  });
}

/** CoreDNS as a pod behind the kube-dns Service (the kubelet's clusterDNS). */
function corednsManifests(image: string): string {
  const corefile = `.:53 {\n    health :8080\n    ready :8181\n    kubernetes cluster.local in-addr.arpa {\n      pods insecure\n    }\n    cache 30\n}\n`;
  const objects = [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'coredns', namespace: 'kube-system' } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'system:coredns' },
      rules: [
        { apiGroups: [''], resources: ['services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'system:coredns' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:coredns' },
      subjects: [{ kind: 'ServiceAccount', name: 'coredns', namespace: 'kube-system' }],
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'coredns', namespace: 'kube-system' },
      data: { Corefile: corefile },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'coredns', namespace: 'kube-system' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { 'k8s-app': 'kube-dns' } },
        template: {
          metadata: { labels: { 'k8s-app': 'kube-dns' } },
          spec: {
            serviceAccountName: 'coredns',
            dnsPolicy: 'Default',
            containers: [
              {
                name: 'coredns',
                image,
                imagePullPolicy: 'Never',
                args: ['-conf', '/etc/coredns/Corefile'],
                volumeMounts: [{ name: 'config', mountPath: '/etc/coredns', readOnly: true }],
                readinessProbe: { httpGet: { path: '/ready', port: 8181 }, periodSeconds: 2 },
                livenessProbe: { httpGet: { path: '/health', port: 8080 }, periodSeconds: 10 },
              },
            ],
            volumes: [{ name: 'config', configMap: { name: 'coredns' } }],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kube-dns', namespace: 'kube-system' },
      spec: {
        selector: { 'k8s-app': 'kube-dns' },
        clusterIP: NETWORK.dnsIp,
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53, protocol: 'TCP' },
        ],
      },
    },
  ];
  return objects.map((o) => JSON.stringify(o)).join('\n---\n');
}

// ---------------------------------------------------------------------------------------------------------------
// Start

async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>, hint: () => Promise<string>) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} not within ${timeoutMs / 1000} s\n${await hint()}`);
    await sleep(500);
  }
}

/**
 * Starts a one-node cluster (building what is missing first) and waits until the node is Ready, CoreDNS answers
 * and the `default` ServiceAccount exists. Waits for the machine-wide lock if another cluster is running.
 */
export async function startCluster(): Promise<Cluster> {
  const manifest = await clusterManifest();
  process.env.SWITCHYARD_CONTROL_PLANE_BIN_DIR ??= manifest.binDir;
  const dir = await mkdtemp(join(tmpdir(), DIR_PREFIX));
  await chmod(dir, 0o755);
  const id = dir
    .slice(-6)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, 'x');
  const containerdSocket = join(dir, 'containerd', 'containerd.sock');
  appendFileSync(join(dir, 'state.env'), `CONTAINERD_SOCKET=${containerdSocket}\n`);
  const supervisor = await startSupervisor(dir);
  await teardownStale(dir);
  const started = Date.now();
  const progress = (what: string) =>
    process.stderr.write(`[cluster] ${what} ${((Date.now() - started) / 1000).toFixed(1)} s after start\n`);

  const procs: Proc[] = [];
  let cp: ControlPlane | undefined;
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    for (const proc of [...procs].reverse()) await stopProcess(proc);
    await cp?.stop();
    supervisor.child.stdin?.end();
    await supervisor.exited;
  };
  const daemon = (name: string, binary: string, args: string[]): Proc => {
    const proc = startProcess(name, binary, args, dir);
    if (proc.child.pid) appendFileSync(join(dir, 'pids'), `${proc.child.pid} ${binary}\n`);
    procs.push(proc);
    return proc;
  };
  const tail = async (name: string, lines = 40): Promise<string> => {
    const proc = procs.find((p) => p.name === name);
    return proc ? `--- ${name}.log ---\n${await logTail(proc, lines)}` : `(no ${name})`;
  };

  try {
    await prepareMachine(dir, id);
    const bridge = `sy${id}`;
    const bin = (b: string) => join(manifest.binDir, b);
    cp = await startControlPlane({
      nodeAddress: NETWORK.nodeIp,
      serviceClusterIpRange: NETWORK.serviceCidr,
      extraApiServerArgs: ['--kubelet-preferred-address-types=InternalIP'],
    });
    const kubeconfig = cp.kubeconfigPath;
    const caPath = join(dir, 'ca.crt');
    await writeFile(caPath, cp.caPem);

    // both with the admin kubeconfig, on loopback, without leader election (one of each)
    const controlFlags = async () => [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${await freePort()}`,
      '--leader-elect=false',
    ];
    daemon('kube-controller-manager', bin('kube-controller-manager'), [
      ...(await controlFlags()),
      `--service-account-private-key-file=${join(cp.dir, 'sa.key')}`,
      `--root-ca-file=${caPath}`,
      `--service-cluster-ip-range=${NETWORK.serviceCidr}`,
    ]);
    daemon('kube-scheduler', bin('kube-scheduler'), await controlFlags());

    await mkdir(join(dir, 'cni', 'net.d'), { recursive: true });
    await writeFile(join(dir, 'cni', 'net.d', '10-switchyard.conflist'), cniConfig(dir, bridge));
    await writeFile(join(dir, 'containerd.toml'), containerdConfig(dir, manifest));
    // Images and container layers in memory: the imports are quicker, and the teardown is an unmount instead of
    // deleting a gigabyte and more on a busy shared disk.
    await mkdir(join(dir, 'containerd', 'root'), { recursive: true });
    await sh('mount', [
      '-t',
      'tmpfs',
      '-o',
      'size=8g,mode=0700',
      'switchyard-cluster',
      join(dir, 'containerd', 'root'),
    ]);
    const containerd = daemon('containerd', '/usr/bin/containerd', [`--config=${join(dir, 'containerd.toml')}`]);
    const ctr = (args: string[], timeoutMs = 300_000) =>
      run('ctr', ['--address', containerdSocket, '--namespace', 'k8s.io', ...args], process.env, undefined, timeoutMs);
    await waitUntil(
      'containerd',
      60_000,
      async () => containerd.exitCode === undefined && (await ctr(['version'], 5000)).code === 0,
      () => tail('containerd'),
    );
    const images = Object.values(manifest.images).filter((i) => i !== manifest.images.runtime);
    for (const image of images) {
      const res = await ctr(['images', 'import', '--no-unpack=false', image.archive]);
      if (res.code !== 0) throw new Error(`importing ${image.archive}: ${res.stderr}`);
    }
    progress(`${images.length} images imported`);

    await writeFile(join(dir, 'resolv.conf'), `nameserver ${NETWORK.nodeIp}\n`);
    const kubeletPorts = { kubelet: await freePort(), healthz: await freePort() };
    await writeFile(join(dir, 'kubelet.json'), kubeletConfig(dir, `switchyard-${id}`, kubeletPorts));
    const kubelet = daemon('kubelet', bin('kubelet'), [
      `--config=${join(dir, 'kubelet.json')}`,
      `--kubeconfig=${kubeconfig}`,
      `--root-dir=${join(dir, 'kubelet')}`,
      `--cert-dir=${join(dir, 'kubelet', 'pki')}`,
      `--hostname-override=${NODE_NAME}`,
      `--node-ip=${NETWORK.nodeIp}`,
      '--v=1',
    ]);
    await writeFile(
      join(dir, 'kube-proxy.json'),
      kubeProxyConfig(kubeconfig, { healthz: await freePort(), metrics: await freePort() }),
    );
    daemon('kube-proxy', bin('kube-proxy'), [`--config=${join(dir, 'kube-proxy.json')}`]);

    const cpRef = cp;
    await waitUntil(
      'node Ready',
      120_000,
      async () => {
        if (kubelet.exitCode !== undefined) throw new Error('kubelet exited');
        const res = await cpRef.kubectl([
          'get',
          'node',
          NODE_NAME,
          '-o',
          'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
        ]);
        return res.stdout.trim() === 'True';
      },
      async () => `${await tail('kubelet')}\n${await tail('containerd')}`,
    );
    progress('node Ready');
    const dns = await cp.kubectl(['apply', '-f', '-'], { input: corednsManifests(manifest.images.coredns.name) });
    if (dns.code !== 0) throw new Error(`CoreDNS manifests: ${dns.stderr}`);
    await waitUntil(
      'CoreDNS available and the default ServiceAccount',
      120_000,
      async () => {
        const res = await cpRef.kubectl([
          'get',
          'deploy',
          'coredns',
          '-n',
          'kube-system',
          '-o',
          'jsonpath={.status.availableReplicas}',
        ]);
        const sa = await cpRef.kubectl(['get', 'serviceaccount', 'default', '-n', 'default']);
        return res.stdout.trim() === '1' && sa.code === 0;
      },
      async () => {
        const pods = await cpRef.kubectl(['get', 'pods', '-A', '-o', 'wide']);
        const events = await cpRef.kubectl(['get', 'events', '-A', '--sort-by=.lastTimestamp']);
        return `${pods.stdout}\n${events.stdout.split('\n').slice(-15).join('\n')}\n${await tail('kubelet')}\n${await tail('kube-controller-manager', 15)}`;
      },
    );

    progress('CoreDNS available, cluster ready');
    const cluster: Cluster = {
      cp,
      manifest,
      dir,
      nodeName: NODE_NAME,
      kubectl: cp.kubectl,
      helm: cp.helm,
      imageValues() {
        const split = (name: string) => {
          const at = name.lastIndexOf(':');
          return { repository: name.slice(0, at), tag: name.slice(at + 1) };
        };
        const proxy = split(manifest.images.proxy.name);
        const operator = split(manifest.images.operator.name);
        return [
          `--set=proxy.image.repository=${proxy.repository}`,
          `--set=proxy.image.tag=${proxy.tag}`,
          '--set=proxy.image.pullPolicy=Never',
          `--set=operator.image.repository=${operator.repository}`,
          `--set=operator.image.tag=${operator.tag}`,
          '--set=operator.image.pullPolicy=Never',
        ];
      },
      logTail: tail,
      stop,
    };
    return cluster;
  } catch (err) {
    await stop();
    throw err;
  }
}
