/**
 * A real Kubernetes control plane for tests: etcd + kube-apiserver on loopback, plus kubectl and helm.
 *
 * The binaries are built from Go modules by `build.sh` (cached outside the git tree, fast no-op when cached);
 * see README.md beside this file. There is no kubelet, scheduler or controller-manager: objects are stored and
 * validated, RBAC is enforced, but no Pod ever runs and no controller reacts (no garbage collection, no default
 * ServiceAccount per namespace, no EndpointSlices unless a test writes them).
 *
 * ```ts
 * const cp = await startControlPlane();
 * await cp.kubectl(['create', 'namespace', 'x']);
 * const token = await cp.serviceAccountToken('x', 'operator'); // creates the ServiceAccount if needed
 * await cp.kubectl(['get', 'configmaps', '-n', 'x'], { token }); // → Forbidden until RBAC allows it
 * await cp.stop();
 * ```
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  forgetDir,
  freePort,
  logTail,
  type Proc,
  removeDirOnExit,
  startProcess,
  stopProcess,
} from '../support/processes.js';

export { freePort } from '../support/processes.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const BUILD_SCRIPT = join(HERE, 'build.sh');

export interface StartControlPlaneOptions {
  /** kube-apiserver `--authorization-mode`. Default `RBAC` (the admin token is in `system:masters` anyway). */
  authorizationMode?: 'RBAC' | 'AlwaysAllow';
  /** How long to wait for etcd and `/readyz` of kube-apiserver. Default 90 s. */
  startTimeoutMs?: number;
  /** Extra kube-apiserver flags (`--name=value`), appended after the defaults. */
  extraApiServerArgs?: string[];
  /**
   * Serve a node (test/cluster): listen and advertise on this (non-loopback) address, keep the endpoints of the
   * `kubernetes` Service and the ServiceAccount admission plugin. Default: loopback only, neither.
   */
  nodeAddress?: string;
  /** `--service-cluster-ip-range`. Default `10.0.0.0/24`. */
  serviceClusterIpRange?: string;
}

export interface CommandResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface CommandOptions {
  /** Written to the command's standard input (e.g. YAML for `kubectl apply -f -`). */
  input?: string;
  /** Bearer token to use instead of the admin token (e.g. from `serviceAccountToken`). */
  token?: string;
  /** Kill the command after this long (default 60 s); the result then has code 124. */
  timeoutMs?: number;
}

export interface ControlPlane {
  /** `https://127.0.0.1:PORT` (or the `nodeAddress`) */
  server: string;
  /** Bearer token of user `admin` in group `system:masters`. */
  token: string;
  /** kubeconfig (context `switchyard-test`) with the admin token and the apiserver's CA. */
  kubeconfigPath: string;
  /** PEM of the CA that signed the apiserver's serving certificate (also in the kubeconfig). */
  caPem: string;
  /** Directory with `kube-apiserver`, `etcd`, `kubectl`, `helm`. */
  binDir: string;
  /** Temporary directory of this instance (logs: `etcd.log`, `kube-apiserver.log`); removed by `stop()`. */
  dir: string;
  /** Environment for child processes: KUBECONFIG, PATH with binDir first, isolated kubectl/helm caches. */
  env: NodeJS.ProcessEnv;
  /** Runs kubectl against this control plane (admin unless `opts.token`). Never throws on a non-zero exit. */
  kubectl(args: string[], opts?: CommandOptions): Promise<CommandResult>;
  /** Runs helm against this control plane (admin unless `opts.token`). Never throws on a non-zero exit. */
  helm(args: string[], opts?: CommandOptions): Promise<CommandResult>;
  /**
   * A token for ServiceAccount `namespace/name` from the TokenRequest API (`kubectl create token`). Creates the
   * ServiceAccount when it does not exist; the namespace must exist. Authenticates as
   * `system:serviceaccount:NAMESPACE:NAME` with no permissions beyond what RBAC grants it.
   */
  serviceAccountToken(namespace: string, name: string, opts?: { durationSeconds?: number }): Promise<string>;
  /** Writes a kubeconfig for this server with another bearer token; returns its path (inside `dir`). */
  writeKubeconfig(token: string, fileName?: string): Promise<string>;
  /** Kills kube-apiserver and etcd and removes `dir`. Idempotent. */
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------------
// Binaries

let binDirPromise: Promise<string> | undefined;

/**
 * Returns the bin dir with kube-apiserver, etcd, kubectl and helm, building them first if needed (`build.sh`,
 * several minutes on the first run, a fast no-op afterwards). `SWITCHYARD_CONTROL_PLANE_BIN_DIR` overrides it.
 */
export function controlPlaneBinDir(): Promise<string> {
  const override = process.env.SWITCHYARD_CONTROL_PLANE_BIN_DIR;
  if (override) return Promise.resolve(override);
  binDirPromise ??= new Promise<string>((resolve, reject) => {
    // Progress lines of a first build go to our stderr, so a slow start explains itself.
    const child = spawn('bash', [BUILD_SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const lines = stdout.trim().split('\n');
      const last = lines[lines.length - 1]?.trim();
      if (code === 0 && last) resolve(last);
      else reject(new Error(`${BUILD_SCRIPT} failed (exit ${code}); run scripts/ensure-control-plane.sh to see why`));
    });
  });
  binDirPromise.catch(() => {
    binDirPromise = undefined;
  });
  return binDirPromise;
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

interface HttpAnswer {
  status: number;
  body: string;
}

function httpsGet(url: string, token: string, ca: string | undefined): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'GET',
        headers: { authorization: `Bearer ${token}` },
        ...(ca ? { ca } : { rejectUnauthorized: false }),
        timeout: 5000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

async function httpGet(url: string): Promise<HttpAnswer> {
  const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
  return { status: res.status, body: await res.text() };
}

/** Runs a command to completion (never throws; code 124 after `timeoutMs`, 127 when it cannot start). */
export function run(
  binary: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  input: string | undefined,
  timeoutMs: number,
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(binary, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    child.stdin.on('error', () => {
      // the command may exit without reading its input
    });
    child.stdin.end(input ?? '');
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ stdout, stderr: `${stderr}${err.message}\n`, code: 127 });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code: timedOut ? 124 : (code ?? 1) });
    });
  });
}

function kubeconfig(server: string, caPem: string, token: string): string {
  // JSON is valid YAML; kubectl, helm and @kubernetes/client-node all read it.
  return `${JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'switchyard-test',
          cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') },
        },
      ],
      users: [{ name: 'switchyard-test', user: { token } }],
      contexts: [{ name: 'switchyard-test', context: { cluster: 'switchyard-test', user: 'switchyard-test' } }],
      'current-context': 'switchyard-test',
    },
    null,
    2,
  )}\n`;
}

/** The CA certificate(s) in kube-apiserver's self-signed `apiserver.crt` (it holds the leaf, then its CA). */
function caFromCertChain(pem: string): string {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const cas = blocks.length > 1 ? blocks.slice(1) : blocks;
  return `${cas.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------------------------
// Start

const BIND_RACE = /address already in use/i;

class StartError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/**
 * Starts etcd and kube-apiserver on free loopback ports with a fresh temporary data dir and waits until the
 * apiserver is ready (`/readyz` ok and namespace `default` exists). Typically 5-15 s once the binaries are cached.
 */
export async function startControlPlane(opts: StartControlPlaneOptions = {}): Promise<ControlPlane> {
  const binDir = await controlPlaneBinDir();
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(binDir, opts);
    } catch (err) {
      if (err instanceof StartError && err.retryable && attempt < 3) continue;
      throw err;
    }
  }
}

async function startOnce(binDir: string, opts: StartControlPlaneOptions): Promise<ControlPlane> {
  const timeoutMs = opts.startTimeoutMs ?? 90_000;
  const deadline = Date.now() + timeoutMs;
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-cp-'));
  removeDirOnExit(dir);
  const procs: Proc[] = [];
  let stopped = false;

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // apiserver first, so it does not log a storm of etcd errors
    for (const proc of [...procs].reverse()) await stopProcess(proc);
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    forgetDir(dir);
  };

  const fail = async (proc: Proc, what: string): Promise<never> => {
    const tail = await logTail(proc);
    const retryable = BIND_RACE.test(tail);
    await stop();
    throw new StartError(`${what}\n--- last lines of ${proc.name}.log ---\n${tail}`, retryable);
  };

  try {
    const [etcdClientPort, etcdPeerPort, apiPort] = (await freePorts(3)) as [number, number, number];
    const token = randomBytes(24).toString('hex');
    const certDir = join(dir, 'certs');
    await mkdir(certDir);

    // ServiceAccount token signing key (TokenRequest API) and the static admin token.
    const { publicKey, privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    await writeFile(join(dir, 'sa.pub'), publicKey);
    await writeFile(join(dir, 'sa.key'), privateKey, { mode: 0o600 });
    await writeFile(join(dir, 'tokens.csv'), `${token},admin,admin,"system:masters"\n`, { mode: 0o600 });

    // etcd
    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const peerUrl = `http://127.0.0.1:${etcdPeerPort}`;
    const etcd = startProcess(
      'etcd',
      join(binDir, 'etcd'),
      [
        '--name=switchyard',
        `--data-dir=${join(dir, 'etcd-data')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=switchyard=${peerUrl}`,
        '--unsafe-no-fsync=true', // throw-away data: no fsync, much faster on a busy disk
        '--log-level=warn',
      ],
      dir,
      { cleanupDir: dir }, // if this process dies without stop(), etcd's supervisor removes the temp dir
    );
    procs.push(etcd);
    for (;;) {
      if (etcd.exitCode !== undefined) return await fail(etcd, `etcd exited with code ${etcd.exitCode}`);
      if (Date.now() > deadline) return await fail(etcd, `etcd not healthy after ${timeoutMs} ms`);
      const res = await httpGet(`${etcdUrl}/health`).catch(() => undefined);
      if (res?.status === 200 && res.body.includes('"true"')) break;
      await sleep(100);
    }

    // kube-apiserver, with flags much like controller-runtime's envtest
    const address = opts.nodeAddress ?? '127.0.0.1';
    const server = `https://${address}:${apiPort}`;
    const apiserver = startProcess(
      'kube-apiserver',
      join(binDir, 'kube-apiserver'),
      [
        `--etcd-servers=${etcdUrl}`,
        `--cert-dir=${certDir}`, // self-signed serving cert + CA generated on start (apiserver.crt)
        `--secure-port=${apiPort}`,
        `--bind-address=${address}`,
        `--advertise-address=${address}`,
        `--service-cluster-ip-range=${opts.serviceClusterIpRange ?? '10.0.0.0/24'}`,
        '--allow-privileged=true',
        // Since Kubernetes 1.3x the endpoint reconciler of the `kubernetes` Service refuses a loopback
        // advertise address ("cannot use public IP 127.0.0.1 with endpoint reconciler"); nothing here needs
        // those endpoints, so turn it off.
        ...(opts.nodeAddress ? [] : ['--endpoint-reconciler-type=none']),
        `--authorization-mode=${opts.authorizationMode ?? 'RBAC'}`,
        `--token-auth-file=${join(dir, 'tokens.csv')}`,
        `--service-account-key-file=${join(dir, 'sa.pub')}`,
        `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        // No controller-manager creates the `default` ServiceAccount of a namespace, so the ServiceAccount
        // admission plugin would reject every Pod; envtest disables it for the same reason.
        ...(opts.nodeAddress ? [] : ['--disable-admission-plugins=ServiceAccount']),
        ...(opts.extraApiServerArgs ?? []),
      ],
      dir,
    );
    procs.push(apiserver);

    let caPem: string | undefined;
    let lastAnswer = 'no answer yet';
    for (;;) {
      if (apiserver.exitCode !== undefined) {
        return await fail(apiserver, `kube-apiserver exited with code ${apiserver.exitCode}`);
      }
      if (etcd.exitCode !== undefined) return await fail(etcd, `etcd exited with code ${etcd.exitCode}`);
      if (Date.now() > deadline) {
        return await fail(apiserver, `kube-apiserver not ready after ${timeoutMs} ms (last: ${lastAnswer})`);
      }
      if (!caPem) {
        const chain = await readFile(join(certDir, 'apiserver.crt'), 'utf8').catch(() => undefined);
        if (chain) caPem = caFromCertChain(chain);
      }
      if (caPem) {
        try {
          const ready = await httpsGet(`${server}/readyz`, token, caPem);
          lastAnswer = `/readyz ${ready.status} ${ready.body.slice(0, 200)}`;
          if (ready.status === 200) {
            const ns = await httpsGet(`${server}/api/v1/namespaces/default`, token, caPem);
            lastAnswer = `GET namespaces/default ${ns.status}`;
            if (ns.status === 200) break;
          }
        } catch (err) {
          lastAnswer = err instanceof Error ? err.message : String(err);
        }
      }
      await sleep(200);
    }

    if (!caPem) throw new Error('unreachable: ready without a CA');
    const kubeconfigPath = join(dir, 'kubeconfig');
    await writeFile(kubeconfigPath, kubeconfig(server, caPem, token), { mode: 0o600 });
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      KUBECONFIG: kubeconfigPath,
      PATH: `${binDir}:${process.env.PATH ?? ''}`,
      KUBECACHEDIR: join(dir, 'kube-cache'),
      HELM_CACHE_HOME: join(dir, 'helm', 'cache'),
      HELM_CONFIG_HOME: join(dir, 'helm', 'config'),
      HELM_DATA_HOME: join(dir, 'helm', 'data'),
    };

    const command =
      (binary: string) =>
      (args: string[], o: CommandOptions = {}): Promise<CommandResult> =>
        run(
          join(binDir, binary),
          [...(o.token ? [`--token=${o.token}`] : []), ...args],
          env,
          o.input,
          o.timeoutMs ?? 60_000,
        );
    const kubectl = command('kubectl');
    const helm = (args: string[], o: CommandOptions = {}): Promise<CommandResult> =>
      o.token
        ? cp
            .writeKubeconfig(o.token)
            .then((path) =>
              run(join(binDir, 'helm'), [`--kubeconfig=${path}`, ...args], env, o.input, o.timeoutMs ?? 120_000),
            )
        : run(join(binDir, 'helm'), args, env, o.input, o.timeoutMs ?? 120_000);

    let kubeconfigCount = 0;
    const caText = caPem;
    const cp: ControlPlane = {
      server,
      token,
      kubeconfigPath,
      caPem: caText,
      binDir,
      dir,
      env,
      kubectl,
      helm,
      async serviceAccountToken(namespace, name, o = {}) {
        const sa = JSON.stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } });
        const created = await kubectl(['apply', '-f', '-'], { input: sa });
        if (created.code !== 0) {
          throw new Error(`creating ServiceAccount ${namespace}/${name} failed: ${created.stderr.trim()}`);
        }
        const args = ['create', 'token', name, '-n', namespace];
        if (o.durationSeconds) args.push(`--duration=${o.durationSeconds}s`);
        const res = await kubectl(args);
        if (res.code !== 0) throw new Error(`kubectl create token ${namespace}/${name} failed: ${res.stderr.trim()}`);
        return res.stdout.trim();
      },
      async writeKubeconfig(otherToken, fileName) {
        const path = join(dir, fileName ?? `kubeconfig-${++kubeconfigCount}`);
        await writeFile(path, kubeconfig(server, caText, otherToken), { mode: 0o600 });
        return path;
      },
      stop,
    };
    return cp;
  } catch (err) {
    await stop();
    throw err;
  }
}
