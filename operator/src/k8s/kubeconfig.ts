/**
 * Connection settings for the apiserver, loaded with @kubernetes/client-node's KubeConfig: kubeconfig files
 * (contexts, inline `*-data` or file paths, tokens, token files, client certificates, exec credential plugins,
 * OIDC and cloud auth providers, impersonation) and the in-cluster service account. The REST client itself is
 * ours (client.ts): it needs streamed watches with our own backoff, and nothing of the generated API classes.
 */
import { existsSync, readFileSync } from 'node:fs';
import type https from 'node:https';
import { dirname, isAbsolute, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';

/** TLS settings of the connection, for an https.Agent. */
export type TlsSettings = Pick<https.AgentOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized' | 'servername'>;

/** Everything needed to talk to one apiserver. */
export interface ClusterConnection {
  server: string;
  tls: TlsSettings;
  /**
   * Headers that authenticate one request (Authorization, Impersonate-User). Asked per request, so rotated
   * service-account tokens and exec-issued tokens are always current (the library caches them until expiry).
   */
  authHeaders(): Promise<Record<string, string>>;
}

async function applied(kc: KubeConfig): Promise<https.RequestOptions> {
  const opts: https.RequestOptions = { headers: {} };
  await kc.applyToHTTPSOptions(opts);
  return opts;
}

function headersOf(opts: https.RequestOptions): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.headers ?? {})) if (typeof v === 'string') out[k.toLowerCase()] = v.trim();
  if (typeof opts.auth === 'string') out.authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
  return out;
}

/** The connection of a loaded KubeConfig's current context. */
export async function connectionFrom(kc: KubeConfig): Promise<ClusterConnection> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error(`kubeconfig: context ${kc.getCurrentContext() || '(none)'} has no cluster`);
  if (!kc.getCurrentUser()) throw new Error(`kubeconfig: context ${kc.getCurrentContext()} has no user`);
  const first = await applied(kc);
  const tls: TlsSettings = {};
  if (first.ca) tls.ca = first.ca;
  if (first.cert) tls.cert = first.cert;
  if (first.key) tls.key = first.key;
  if (first.rejectUnauthorized === false) tls.rejectUnauthorized = false;
  if (first.servername) tls.servername = first.servername;
  return {
    server: cluster.server,
    tls,
    authHeaders: async () => headersOf(await applied(kc)),
  };
}

/**
 * Loads kubeconfig files, merged in order (the first file's current context wins). A user's `tokenFile` (the
 * field client-go reads and the library ignores) becomes the library's file token provider, which re-reads the
 * file as it rotates.
 */
function loadFiles(files: string[]): KubeConfig {
  let kc: KubeConfig | undefined;
  for (const file of files) {
    const one = new KubeConfig();
    one.loadFromFile(file);
    const raw = parse(readFileSync(file, 'utf8')) as { users?: { name?: string; user?: { tokenFile?: unknown } }[] };
    const tokenFiles = new Map<string, string>();
    for (const u of raw?.users ?? []) {
      const f = u.user?.tokenFile;
      if (u.name && typeof f === 'string') tokenFiles.set(u.name, isAbsolute(f) ? f : join(dirname(file), f));
    }
    one.users = one.users.map((u) => {
      const tokenFile = tokenFiles.get(u.name);
      if (!tokenFile || u.token || u.exec || u.authProvider) return u;
      return { ...u, authProvider: { name: 'tokenFile', config: { tokenFile } } };
    });
    if (!kc) kc = one;
    else kc.mergeConfig(one, !!kc.getCurrentContext());
  }
  if (!kc) throw new Error('no kubeconfig files given');
  return kc;
}

/**
 * `--kubeconfig` (with `--context`), else $KUBECONFIG (colon-separated files are merged), else the in-cluster
 * service account, else ~/.kube/config — the order controller-runtime uses.
 */
export async function loadConnection(explicitPath?: string, context?: string): Promise<ClusterConnection> {
  const home = join(process.env.HOME ?? '/root', '.kube', 'config');
  const envFiles = (process.env.KUBECONFIG ?? '').split(':').filter(Boolean);
  let kc: KubeConfig;
  if (explicitPath) kc = loadFiles([explicitPath]);
  else if (envFiles.length > 0) kc = loadFiles(envFiles);
  else if (process.env.KUBERNETES_SERVICE_HOST) {
    kc = new KubeConfig();
    kc.loadFromCluster();
  } else if (existsSync(home)) kc = loadFiles([home]);
  else throw new Error('no kubeconfig found and not running in a cluster (pass --kubeconfig)');
  if (context) {
    if (!kc.getContextObject(context)) throw new Error(`kubeconfig: context ${context} not found`);
    kc.setCurrentContext(context);
  }
  return connectionFrom(kc);
}
