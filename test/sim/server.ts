/**
 * The simulator's HTTP server (plain `node:http` for speed): routing, body parsing, request recording, API-key
 * and loading checks, fault injection, and the lifecycle (graceful close, hard kill, restart on the same port).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { control } from './control.js';
import { bodyDirectives } from './directives.js';
import { Exchange } from './exchange.js';
import type { ErrorReply } from './flavours/types.js';
import type { Runtime } from './runtime.js';
import type { FaultSpec } from './types.js';

function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () =>
      resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')),
    );
    req.on('error', () => resolve(null));
    req.on('close', () => {
      if (!req.complete) resolve(null);
    });
  });
}

function withRetryAfter(e: ErrorReply, seconds: number | undefined, ms: boolean): ErrorReply {
  if (seconds === undefined) return e;
  const headers: Record<string, string> = { ...e.headers, 'retry-after': String(Math.ceil(seconds)) };
  if (ms) headers['retry-after-ms'] = String(Math.round(seconds * 1000));
  return { ...e, headers };
}

/** Serves one protocol request. */
async function dispatch(rt: Runtime, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (path.startsWith('/_sim/')) return control(rt, req, res, path);
  const method = req.method ?? 'GET';
  const ex = new Exchange(rt, req, res, path);
  rt.counters.countPath(path);
  const route = rt.flavour.routes.get(`${method} ${path}`);
  if (route?.error) ex.errorShape = route.error;
  ex.inference = route?.inference === true;
  if (method !== 'GET' && method !== 'HEAD') {
    const raw = await readBody(req);
    if (raw === null) return;
    ex.raw = raw;
    if (raw.length > 0) {
      try {
        ex.body = JSON.parse(raw);
      } catch {
        rt.record({ method, path, headers: req.headers, body: undefined, time: Date.now() });
        const bad = rt.flavour.badJson?.();
        return bad ? ex.reply(bad) : ex.error(400, 'We could not parse the JSON body of your request.');
      }
      ex.directives = bodyDirectives(raw);
    }
  }
  rt.record({ method, path, headers: req.headers, body: ex.body, time: Date.now() });
  if (!route) return ex.reply(rt.flavour.notFound(method, path));
  const key = rt.opts.apiKey;
  if (key && !route.public && !rt.flavour.authorized(req.headers, key)) return ex.error(401);
  if (rt.loading && !route.whileLoading) return ex.error(503, 'Loading model');
  const header = req.headers['x-sim-fault'];
  const fault = rt.faults.pick(
    Array.isArray(header) ? header[0] : header,
    ex.directives,
    path,
    route.inference === true,
  );
  if (fault && !(await applyFault(ex, fault))) return;
  await route.handler(ex);
}

/** Applies the parts of a fault that act before the handler; false when the request is finished. */
async function applyFault(ex: Exchange, fault: FaultSpec): Promise<boolean> {
  const rt = ex.rt;
  rt.counters.faultsInjected++;
  if (fault.slowFirstByteMs && !(await ex.sleep(fault.slowFirstByteMs))) return false;
  if (fault.hang) {
    ex.hang();
    return false;
  }
  if (fault.status !== undefined) {
    ex.reply(withRetryAfter(ex.errorShape(fault.status, fault.message), fault.retryAfter, rt.flavour.retryAfterMs));
    return false;
  }
  ex.fault = fault;
  return true;
}

/** Owns the listening socket and every connection. */
export class SimServer {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(
    readonly rt: Runtime,
    readonly host: string,
  ) {}

  get listening(): boolean {
    return this.server !== null;
  }

  /** Listens on `port` (0 = any free port); resolves with the port. */
  async listen(port: number): Promise<number> {
    const rt = this.rt;
    const server = createServer({ noDelay: true, keepAliveTimeout: 5_000 }, (req, res) => {
      dispatch(rt, req, res).catch((err: unknown) => {
        if (!res.headersSent) {
          const e = rt.flavour.error(500, `simulator error: ${err instanceof Error ? err.message : String(err)}`);
          res.writeHead(e.status, { 'content-type': e.contentType });
          res.end(e.body);
        } else res.destroy();
      });
    });
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this.port;
  }

  /** Stops accepting, ends hung requests, waits for in-flight ones (at most `graceMs`), then destroys the rest. */
  async close(graceMs: number): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    const closed = new Promise<void>((r) => server.close(() => r()));
    for (const ex of this.rt.hung) ex.reset();
    server.closeIdleConnections();
    const deadline = performance.now() + graceMs;
    while (this.rt.inflight > 0 && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
      server.closeIdleConnections();
    }
    await this.destroyAll(closed);
  }

  /** Destroys every connection at once, like a crashed process. */
  async kill(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    const closed = new Promise<void>((r) => server.close(() => r()));
    await this.destroyAll(closed);
  }

  private async destroyAll(closed: Promise<void>): Promise<void> {
    this.rt.killing = true;
    try {
      // Sockets emit 'close' (and their responses theirs) asynchronously: wait for all of them.
      const gone = [...this.sockets].map((s) => new Promise((r) => s.once('close', r)));
      for (const s of this.sockets) s.destroy();
      this.rt.engine.drain();
      await Promise.all(gone);
      await closed;
    } finally {
      this.rt.killing = false;
    }
  }
}
