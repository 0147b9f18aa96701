/**
 * The hostile upstream's TCP server: parses requests (keep-alive, several per connection), answers health checks and
 * model lists well, and answers generation / embedding / token-count requests as the `[hostile <class> <seed>]`
 * marker in their body says, by executing the class's plan byte by byte (pauses, resets, hangs, endless lines).
 * Writes respect backpressure; every hang and endless line ends when the peer leaves, at `maxHangMs`, or on close().
 */
import { createServer, type Server, type Socket } from 'node:net';
import { generatePieces } from '../tokens.js';
import { type AnswerSpec, buildAnswer, classify, type UpstreamCall, wantsStream } from './answers.js';
import { CLASSES, type Expectation, type HostileClass } from './classes.js';
import { parseRequest, RequestTooLarge } from './request.js';
import { Rng } from './rng.js';
import { frameEvents, type Plan, serialize } from './wire.js';

/** What the server did with one request carrying a marker. */
export interface HostileRecord {
  caseId: string;
  cls: string;
  seed: number;
  method: string;
  path: string;
  protocol: string;
  operation: string;
  stream: boolean;
  expect: Expectation;
  note: string;
}

export interface HostileOptions {
  host?: string;
  /** Listening ports sharing one state (replicas of one backend). */
  replicas?: number;
  /** Bytes an endless line writes before it falls silent. */
  endlessCapBytes?: number;
  /** Longest a hang (or a silent endless line) keeps a connection. */
  maxHangMs?: number;
  /** Class for requests without a marker. */
  defaultClass?: string;
  /** Marker records kept (oldest dropped). */
  recordLimit?: number;
}

/** `[hostile <class> <seed> <case>]` anywhere in a request body (the case id is optional). */
const MARKER = /\[hostile ([a-z0-9-]+) (\d+)(?: ([A-Za-z0-9._-]+))?\]/;

/** The marker text for a case; put it in a prompt and the hostile server answers with that class and seed. */
export const hostileMarker = (cls: string, seed: number, caseId?: string) =>
  `[hostile ${cls} ${seed >>> 0}${caseId ? ` ${caseId}` : ''}]`;

const BY_NAME = new Map<string, HostileClass>(CLASSES.map((c) => [c.name, c]));

function credentialOf(headers: Record<string, string>): string | undefined {
  const auth = headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7);
  return headers['x-api-key'];
}

const hasTools = (body: unknown) =>
  body !== null && typeof body === 'object' && Array.isArray((body as { tools?: unknown }).tools);

export class HostileServer {
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly recorded = new Map<string, HostileRecord[]>();
  private closed = false;
  readonly counts = { requests: 0, marked: 0, connections: 0, byClass: {} as Record<string, number> };
  readonly ports: number[] = [];
  /** Bugs of the hostile server itself (tests assert there are none). */
  readonly internalErrors: string[] = [];

  constructor(private readonly opts: Required<HostileOptions>) {}

  async listen(): Promise<void> {
    for (let i = 0; i < this.opts.replicas; i++) {
      const server = createServer({ noDelay: true }, (s) => this.connection(s));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, this.opts.host, () => resolve());
      });
      this.servers.push(server);
      this.ports.push((server.address() as { port: number }).port);
    }
  }

  /** Records of requests that carried `caseId`, removed from the store. */
  take(caseId: string): HostileRecord[] {
    const r = this.recorded.get(caseId) ?? [];
    this.recorded.delete(caseId);
    return r;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.servers.map((s) => new Promise((r) => s.close(r))));
  }

  private connection(socket: Socket): void {
    this.counts.connections++;
    this.sockets.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => this.sockets.delete(socket));
    let buf: Buffer = Buffer.alloc(0);
    let busy = false;
    const pump = async () => {
      busy = true;
      try {
        for (;;) {
          const parsed = parseRequest(buf, 64 * 1024 * 1024);
          if (!parsed) break;
          buf = buf.subarray(parsed.consumed);
          const keep = await this.answer(socket, parsed.request);
          if (!keep || socket.destroyed) return;
        }
      } catch (e) {
        if (!(e instanceof RequestTooLarge))
          this.internalErrors.push(e instanceof Error ? (e.stack ?? e.message) : String(e));
        socket.destroy();
      } finally {
        busy = false;
      }
    };
    socket.on('data', (d: Buffer) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      if (!busy) void pump();
    });
  }

  /** Answers one request; true when the connection stays open for the next. */
  private async answer(
    socket: Socket,
    req: { method: string; path: string; headers: Record<string, string>; body: Buffer },
  ) {
    this.counts.requests++;
    const raw = req.body.toString('utf8');
    let body: unknown;
    try {
      body = raw.length > 0 ? JSON.parse(raw) : undefined;
    } catch {
      body = undefined;
    }
    const call: UpstreamCall = { method: req.method, path: req.path, headers: req.headers, body, raw };
    const { protocol, operation } = classify(req.method, req.path);
    const m = MARKER.exec(raw);
    const clsName = operation === 'meta' ? 'valid' : (m?.[1] ?? this.opts.defaultClass);
    const cls = BY_NAME.get(clsName) ?? (BY_NAME.get('valid') as HostileClass);
    const seed = m ? Number(m[2]) : 1;
    const rng = new Rng(seed);
    const defaults: AnswerSpec = {
      pieces: generatePieces(seed, 3 + (seed % 6)),
      finish: 'stop',
      usage: { input: '11', output: String(3 + (seed % 6)) },
      // A third of the answers reason first, in either OpenAI-protocol field.
      ...(seed % 3 === 0
        ? { reasoning: { field: seed % 2 ? 'reasoning' : 'reasoning_content', pieces: generatePieces(seed + 1, 2) } }
        : {}),
    };
    if (hasTools(body) && clsName === 'valid' && seed % 2 === 1)
      defaults.tools = [{ id: 'call_h', name: 'get_weather', args: ['{"city":', '"Paris"}'] }];
    const built =
      operation === 'meta'
        ? { plan: this.metaPlan(call), expect: 'ok' as const, note: 'metadata' }
        : cls.build({
            call,
            rng,
            protocol,
            operation,
            stream: wantsStream(protocol, operation, body),
            answer: (spec) => buildAnswer(call, { ...defaults, ...spec }),
            answerFor: (other) => buildAnswer(other, defaults),
            credential: credentialOf(req.headers),
            endlessCapBytes: this.opts.endlessCapBytes,
          });
    if (m && operation !== 'meta') {
      this.counts.marked++;
      this.counts.byClass[cls.name] = (this.counts.byClass[cls.name] ?? 0) + 1;
      if (m[3])
        this.record(m[3], {
          caseId: m[3],
          cls: cls.name,
          seed,
          method: req.method,
          path: req.path,
          protocol,
          operation,
          stream: wantsStream(protocol, operation, body),
          expect: built.expect,
          note: built.note,
        });
    }
    return this.execute(socket, built.plan);
  }

  private metaPlan(call: UpstreamCall): Plan {
    const a = buildAnswer(call, { pieces: [], finish: 'stop', usage: { input: '0', output: '0' } });
    return serialize(a, Buffer.from(frameEvents(a.framing, a.events)), { keepAlive: true });
  }

  private record(caseId: string, r: HostileRecord): void {
    const list = this.recorded.get(caseId);
    if (list) list.push(r);
    else {
      if (this.recorded.size >= this.opts.recordLimit) {
        const oldest = this.recorded.keys().next().value;
        if (oldest !== undefined) this.recorded.delete(oldest);
      }
      this.recorded.set(caseId, [r]);
    }
  }

  private sleep(ms: number, socket: Socket): Promise<boolean> {
    return new Promise((resolve) => {
      if (socket.destroyed || this.closed) return resolve(false);
      const done = (alive: boolean) => {
        clearTimeout(t);
        this.timers.delete(t);
        socket.off('close', onClose);
        resolve(alive);
      };
      const onClose = () => done(false);
      const t = setTimeout(() => done(true), ms);
      this.timers.add(t);
      socket.once('close', onClose);
    });
  }

  /** Writes `bytes`; resolves false when the peer left (waits for drain under backpressure). */
  private write(socket: Socket, bytes: Buffer): Promise<boolean> {
    if (socket.destroyed || this.closed) return Promise.resolve(false);
    if (socket.write(bytes)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const onDrain = () => {
        socket.off('close', onClose);
        resolve(true);
      };
      const onClose = () => {
        socket.off('drain', onDrain);
        resolve(false);
      };
      socket.once('drain', onDrain);
      socket.once('close', onClose);
    });
  }

  private async execute(socket: Socket, plan: Plan): Promise<boolean> {
    for (const [i, part] of plan.parts.entries()) {
      if (part.delayMs && !(await this.sleep(part.delayMs, socket))) return false;
      else if (!part.delayMs && i > 0 && plan.parts.length > 64) await new Promise((r) => setImmediate(r));
      if (!(await this.write(socket, part.bytes))) return false;
    }
    switch (plan.ending) {
      case 'keep-alive':
        return true;
      case 'close':
        socket.end();
        return false;
      case 'reset':
        socket.resetAndDestroy();
        return false;
      case 'endless': {
        const filler = plan.endless ?? Buffer.alloc(64 * 1024, 'a');
        for (let sent = 0; sent < this.opts.endlessCapBytes; sent += filler.length)
          if (!(await this.write(socket, filler))) return false;
        break;
      }
      case 'hang':
        break;
    }
    if (await this.sleep(this.opts.maxHangMs, socket)) socket.destroy();
    return false;
  }
}
