/**
 * Loads connection settings for the apiserver: a kubeconfig file (current context; token, token file, client
 * certificate, CA, insecure-skip-tls-verify, inline `*-data` or file paths) or the in-cluster service account.
 *
 * Why not @kubernetes/client-node's KubeConfig: client-node 2.x loads undici 8 at import time, which needs
 * Node >= 22 and crashes on Node 20 (our engines floor). Exec and auth-provider plugins are not supported here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';

/** Everything needed to talk to one apiserver. */
export interface ClusterConnection {
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  insecureSkipTlsVerify?: boolean;
  /** Returns the current bearer token (re-read from a file when it is file based: tokens rotate). */
  token?: () => string;
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

interface Named<T> {
  name: string;
  [k: string]: unknown;
  value?: T;
}
interface KubeconfigFile {
  'current-context'?: string;
  clusters?: (Named<unknown> & { cluster?: Record<string, unknown> })[];
  users?: (Named<unknown> & { user?: Record<string, unknown> })[];
  contexts?: (Named<unknown> & { context?: { cluster?: string; user?: string } })[];
}

/** In-cluster configuration from the service account mount and KUBERNETES_SERVICE_HOST/PORT. */
export function inClusterConnection(): ClusterConnection {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  const port = process.env.KUBERNETES_SERVICE_PORT ?? '443';
  if (!host) throw new Error('not in a cluster: KUBERNETES_SERVICE_HOST is unset (pass --kubeconfig)');
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    ca: readFileSync(join(SA_DIR, 'ca.crt')),
    token: () => readFileSync(join(SA_DIR, 'token'), 'utf8').trim(),
  };
}

/** Connection for the current context of a kubeconfig file (or `context` when given). */
export function kubeconfigConnection(path: string, context?: string): ClusterConnection {
  const kc = parse(readFileSync(path, 'utf8')) as KubeconfigFile;
  const ctxName = context ?? kc['current-context'];
  const ctx = kc.contexts?.find((c) => c.name === ctxName)?.context;
  if (!ctx) throw new Error(`kubeconfig ${path}: context ${ctxName ?? '(none)'} not found`);
  const cluster = kc.clusters?.find((c) => c.name === ctx.cluster)?.cluster;
  if (!cluster) throw new Error(`kubeconfig ${path}: cluster ${ctx.cluster} not found`);
  const user = kc.users?.find((u) => u.name === ctx.user)?.user ?? {};
  const base = dirname(path);
  const material = (obj: Record<string, unknown>, field: string): Buffer | undefined => {
    const data = obj[`${field}-data`];
    if (typeof data === 'string') return Buffer.from(data, 'base64');
    const file = obj[field];
    if (typeof file === 'string') return readFileSync(isAbsolute(file) ? file : join(base, file));
    return undefined;
  };
  const conn: ClusterConnection = { server: String(cluster.server) };
  const ca = material(cluster, 'certificate-authority');
  if (ca) conn.ca = ca;
  if (cluster['insecure-skip-tls-verify'] === true) conn.insecureSkipTlsVerify = true;
  const cert = material(user, 'client-certificate');
  const key = material(user, 'client-key');
  if (cert && key) Object.assign(conn, { cert, key });
  if (typeof user.token === 'string') {
    const token = user.token;
    conn.token = () => token;
  } else if (typeof user.tokenFile === 'string') {
    const file = user.tokenFile;
    conn.token = () => readFileSync(file, 'utf8').trim();
  }
  if (user.exec || user['auth-provider'])
    throw new Error(`kubeconfig ${path}: exec and auth-provider credentials are not supported; use a token`);
  return conn;
}

/** `--kubeconfig`, else $KUBECONFIG (first entry), else in-cluster, else ~/.kube/config. */
export function loadConnection(explicitPath?: string): ClusterConnection {
  if (explicitPath) return kubeconfigConnection(explicitPath);
  const env = process.env.KUBECONFIG?.split(':').find(Boolean);
  if (env) return kubeconfigConnection(env);
  if (process.env.KUBERNETES_SERVICE_HOST) return inClusterConnection();
  const home = join(process.env.HOME ?? '/root', '.kube', 'config');
  if (existsSync(home)) return kubeconfigConnection(home);
  throw new Error('no kubeconfig found and not running in a cluster');
}
