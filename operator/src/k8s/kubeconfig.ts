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

/** What authenticates one request. */
export interface Credentials {
  /** Authorization, Impersonate-User. */
  headers: Record<string, string>;
  tls: TlsSettings;
}

/** Everything needed to talk to one apiserver. */
export interface ClusterConnection {
  server: string;
  /**
   * The credentials of one request, read afresh each time: the CA and client certificate from their files (so
   * rotated files are picked up by the next request), a token file as it is now, exec-issued and OIDC tokens as
   * the library caches them until they expire.
   */
  credentials(): Promise<Credentials>;
}

function headersOf(opts: https.RequestOptions): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.headers ?? {})) if (typeof v === 'string') out[k.toLowerCase()] = v.trim();
  if (typeof opts.auth === 'string') out.authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
  return out;
}

/**
 * The connection of a loaded KubeConfig's current context. `tokenFiles` maps user names to the token file read
 * for them on every request (the library's own token-file provider would re-read it only every minute).
 */
export function connectionFrom(kc: KubeConfig, tokenFiles: ReadonlyMap<string, string> = new Map()): ClusterConnection {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error(`kubeconfig: context ${kc.getCurrentContext() || '(none)'} has no cluster`);
  const user = kc.getCurrentUser();
  if (!user) throw new Error(`kubeconfig: context ${kc.getCurrentContext()} has no user`);
  const tokenFile = tokenFiles.get(user.name);
  return {
    server: cluster.server,
    async credentials() {
      const opts: https.RequestOptions = { headers: {} };
      await kc.applyToHTTPSOptions(opts);
      const headers = headersOf(opts);
      if (tokenFile) headers.authorization = `Bearer ${readFileSync(tokenFile, 'utf8').trim()}`;
      const tls: TlsSettings = {};
      if (opts.ca) tls.ca = opts.ca;
      if (opts.cert) tls.cert = opts.cert;
      if (opts.key) tls.key = opts.key;
      if (opts.rejectUnauthorized === false) tls.rejectUnauthorized = false;
      if (opts.servername) tls.servername = opts.servername;
      return { headers, tls };
    },
  };
}

/**
 * Takes the token files out of the library's hands: a user whose only credential is a token file (kubeconfig's
 * `tokenFile`, which the library ignores, or the in-cluster service account's) gets it read per request instead.
 */
function takeTokenFiles(kc: KubeConfig, declared: ReadonlyMap<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  kc.users = kc.users.map((u) => {
    const fromProvider = u.authProvider?.name === 'tokenFile' ? u.authProvider.config?.tokenFile : undefined;
    const file = typeof fromProvider === 'string' ? fromProvider : declared.get(u.name);
    if (!file || u.token || u.exec || (u.authProvider && !fromProvider)) return u;
    out.set(u.name, file);
    return { ...u, authProvider: undefined };
  });
  return out;
}

/** Loads kubeconfig files, merged in order (the first file's current context wins), with their users' token files. */
function loadFiles(files: string[]): { kc: KubeConfig; tokenFiles: Map<string, string> } {
  let kc: KubeConfig | undefined;
  const declared = new Map<string, string>();
  for (const file of files) {
    const one = new KubeConfig();
    one.loadFromFile(file);
    const raw = parse(readFileSync(file, 'utf8')) as { users?: { name?: string; user?: { tokenFile?: unknown } }[] };
    for (const u of raw?.users ?? []) {
      const f = u.user?.tokenFile;
      if (u.name && typeof f === 'string' && !declared.has(u.name))
        declared.set(u.name, isAbsolute(f) ? f : join(dirname(file), f));
    }
    if (!kc) kc = one;
    else kc.mergeConfig(one, !!kc.getCurrentContext());
  }
  if (!kc) throw new Error('no kubeconfig files given');
  return { kc, tokenFiles: takeTokenFiles(kc, declared) };
}

/** Where to find the cluster; every field is optional. */
export interface ConnectionSource {
  /** `--kubeconfig`. */
  kubeconfig?: string | undefined;
  /** `--context`. */
  context?: string | undefined;
  /** Root under which the in-cluster service account directory lies; default '/' (tests use a temp dir). */
  inClusterRoot?: string;
}

/**
 * `--kubeconfig` (with `--context`), else $KUBECONFIG (colon-separated files are merged), else the in-cluster
 * service account (when $KUBERNETES_SERVICE_HOST is set), else ~/.kube/config — the order controller-runtime uses.
 */
export async function loadConnection(source: ConnectionSource = {}): Promise<ClusterConnection> {
  const env = process.env;
  const home = join(env.HOME ?? '/root', '.kube', 'config');
  const envFiles = (env.KUBECONFIG ?? '').split(':').filter(Boolean);
  let loaded: { kc: KubeConfig; tokenFiles: Map<string, string> };
  if (source.kubeconfig) loaded = loadFiles([source.kubeconfig]);
  else if (envFiles.length > 0) loaded = loadFiles(envFiles);
  else if (env.KUBERNETES_SERVICE_HOST) loaded = loadInCluster(source.inClusterRoot);
  else if (existsSync(home)) loaded = loadFiles([home]);
  else throw new Error('no kubeconfig found and not running in a cluster (pass --kubeconfig)');
  const { kc, tokenFiles } = loaded;
  if (source.context) {
    if (!kc.getContextObject(source.context)) throw new Error(`kubeconfig: context ${source.context} not found`);
    kc.setCurrentContext(source.context);
  }
  const connection = connectionFrom(kc, tokenFiles);
  await connection.credentials(); // unreadable files or a failing plugin: a clear error at start
  return connection;
}

/** The in-cluster service account: its CA and token files are read per request, as the kubelet rotates them. */
function loadInCluster(root = ''): { kc: KubeConfig; tokenFiles: Map<string, string> } {
  const kc = new KubeConfig();
  kc.loadFromCluster(root.replace(/\/$/, ''));
  return { kc, tokenFiles: takeTokenFiles(kc, new Map()) };
}
