/**
 * A small Kubernetes REST client: JSON requests and streamed watches over keep-alive connections, with the
 * connection from kubeconfig.ts. Credentials are read per request, so rotated tokens, client certificates and CAs
 * are picked up by the next request (agents.ts keeps one agent per TLS material). Errors are ApiError with the
 * HTTP status.
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import { TlsAgents } from './agents.js';
import type { ClusterConnection } from './kubeconfig.js';
import type { KubeObject, Status } from './objects.js';

/** A Kubernetes API error: HTTP status plus the Status object's reason and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** True for an ApiError with the given HTTP status. */
export const isStatus = (err: unknown, status: number): boolean => err instanceof ApiError && err.status === status;

/** One event of a watch stream: an object of the watched type, a bookmark (a resourceVersion), or an error. */
export type WatchEvent<T extends KubeObject = KubeObject> =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: T }
  | { type: 'BOOKMARK'; object: { metadata: { resourceVersion?: string } } }
  | { type: 'ERROR'; object: Status };

/** Options of one request. */
export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Content type of the body; default application/json (use application/merge-patch+json for PATCH). */
  contentType?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** The operations the operator needs from the apiserver. */
export interface KubeClient {
  request<T>(method: string, path: string, opts?: RequestOptions): Promise<T>;
  /**
   * Streams watch events until the server closes the stream (resolves) or it fails (rejects). Objects are typed
   * as the caller says, unchecked, like request's answers.
   */
  watch<T extends KubeObject>(
    path: string,
    query: RequestOptions['query'],
    onEvent: (e: WatchEvent<T>) => void,
    signal: AbortSignal,
  ): Promise<void>;
}

const withQuery = (path: string, query: RequestOptions['query']) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
};

async function readBody(res: IncomingMessage): Promise<string> {
  let text = '';
  res.setEncoding('utf8');
  for await (const chunk of res) text += chunk as string;
  return text;
}

function toApiError(status: number, text: string): ApiError {
  try {
    const s = JSON.parse(text) as Status;
    return new ApiError(status, s.reason ?? 'Unknown', s.message ?? text);
  } catch {
    return new ApiError(status, 'Unknown', text.slice(0, 500) || `HTTP ${status}`);
  }
}

/** Options of the client. */
export interface KubeClientOptions {
  /**
   * How much longer than the watch's `timeoutSeconds` (after which the apiserver ends it) a watch may go without
   * receiving a byte before the client gives up on the connection (default 30 s). Without it a silently dropped
   * connection (no FIN/RST: a node or NAT gone) would stall an informer until TCP keep-alive noticed, for minutes.
   */
  watchGraceMs?: number;
  log?: Logger;
}

/** `timeoutSeconds` the apiserver picks for a watch that sets none: at most 2 × --min-request-timeout (1800 s). */
const SERVER_MAX_WATCH_SECONDS = 3600;

/** Creates a client for one apiserver connection. */
export function createKubeClient(conn: ClusterConnection, clientOpts: KubeClientOptions = {}): KubeClient {
  const base = new URL(conn.server);
  const secure = base.protocol === 'https:';
  const tlsAgents = new TlsAgents(clientOpts.log);
  const plainAgent = new http.Agent({ keepAlive: true });

  async function open(method: string, path: string, opts: RequestOptions): Promise<IncomingMessage> {
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const credentials = await conn.credentials();
    const agent = secure ? tlsAgents.agentFor(credentials.tls) : plainAgent;
    const headers: http.OutgoingHttpHeaders = { ...credentials.headers, accept: 'application/json' };
    if (body !== undefined) {
      headers['content-type'] = opts.contentType ?? 'application/json';
      headers['content-length'] = Buffer.byteLength(body);
    }
    const lib = secure ? https : http;
    return new Promise((resolve, reject) => {
      const req = lib.request(
        {
          protocol: base.protocol,
          hostname: base.hostname.replace(/^\[|\]$/g, ''),
          port: base.port,
          path: `${base.pathname.replace(/\/$/, '')}${withQuery(path, opts.query)}`,
          method,
          headers,
          agent,
          signal: opts.signal,
        },
        resolve,
      );
      req.on('error', reject);
      if (opts.timeoutMs) req.setTimeout(opts.timeoutMs, () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.end(body);
    });
  }

  return {
    async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
      const res = await open(method, path, { timeoutMs: 30_000, ...opts });
      const text = await readBody(res);
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) throw toApiError(status, text);
      return (text ? JSON.parse(text) : {}) as T;
    },

    async watch<T extends KubeObject>(
      path: string,
      query: RequestOptions['query'],
      onEvent: (e: WatchEvent<T>) => void,
      signal: AbortSignal,
    ): Promise<void> {
      // The apiserver ends a watch after timeoutSeconds; no byte for that long plus a grace (headers included)
      // means the connection is dead: the request is aborted, watch() rejects and the informer re-watches.
      const serverSeconds = Number(query?.timeoutSeconds) || SERVER_MAX_WATCH_SECONDS;
      const idleMs = serverSeconds * 1000 + (clientOpts.watchGraceMs ?? 30_000);
      const ctl = new AbortController();
      const stop = () => ctl.abort();
      signal.addEventListener('abort', stop, { once: true });
      let idleFired = false;
      const idle = setTimeout(() => {
        idleFired = true;
        ctl.abort();
      }, idleMs);
      try {
        if (signal.aborted) return;
        const res = await open('GET', path, { query: { ...query, watch: true }, signal: ctl.signal });
        const status = res.statusCode ?? 0;
        if (status !== 200) throw toApiError(status, await readBody(res));
        let buffered = '';
        res.setEncoding('utf8');
        for await (const chunk of res) {
          idle.refresh();
          buffered += chunk as string;
          let nl = buffered.indexOf('\n');
          while (nl >= 0) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (line) onEvent(JSON.parse(line) as WatchEvent<T>);
            nl = buffered.indexOf('\n');
          }
        }
      } catch (err) {
        if (signal.aborted) return;
        if (idleFired) throw new Error(`watch ${path}: no data for ${idleMs} ms; connection presumed dead`);
        throw err;
      } finally {
        clearTimeout(idle);
        signal.removeEventListener('abort', stop);
      }
    },
  };
}
