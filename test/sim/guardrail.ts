/**
 * Stand-in for an external guardrail service (the contract in proxy/src/guardrails/contract.ts and
 * docs/guardrails.md): denies texts containing the deny word (reason `blocked_word`), masks the mask word as
 * `[REDACTED]`, allows the rest. Faults on demand: a delay, a status other than 200, a raw answer body, a hang.
 * Records every request and the most checks it held at once.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type GuardrailCheckRequest, guardrailCheckRequest } from '../../proxy/src/guardrails/contract.js';

export interface GuardrailBehaviour {
  denyWord: string;
  maskWord: string;
  /** Wait this long before answering. */
  delayMs: number;
  /** Answer with this status (and an error body) instead of a verdict. */
  status: number;
  /** Answer 200 with exactly this body instead of a verdict. */
  rawBody: string | undefined;
  /** Never answer. */
  hang: boolean;
}

export interface GuardrailService {
  url: string;
  /** Requests received, parsed (invalid ones are answered 400 and not recorded). */
  requests(): GuardrailCheckRequest[];
  /** The most requests in progress at once so far. */
  maxInFlight(): number;
  set(behaviour: Partial<GuardrailBehaviour>): void;
  reset(): void;
  close(): Promise<void>;
}

const DEFAULTS: GuardrailBehaviour = {
  denyWord: 'forbidden',
  maskWord: 'classified',
  delayMs: 0,
  status: 200,
  rawBody: undefined,
  hang: false,
};

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Starts the stand-in on a free 127.0.0.1 port. */
export async function startGuardrailService(initial: Partial<GuardrailBehaviour> = {}): Promise<GuardrailService> {
  let b: GuardrailBehaviour = { ...DEFAULTS, ...initial };
  const seen: GuardrailCheckRequest[] = [];
  let inFlight = 0;
  let most = 0;
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = createServer(async (req, res) => {
    inFlight++;
    most = Math.max(most, inFlight);
    res.once('close', () => inFlight--);
    const parsed = guardrailCheckRequest.safeParse(JSON.parse((await readBody(req)) || 'null'));
    if (!parsed.success) return json(res, 400, { error: 'not a guardrail check request' });
    seen.push(parsed.data);
    if (b.hang) return;
    if (b.delayMs > 0) await new Promise((r) => setTimeout(r, b.delayMs));
    if (b.status !== 200) return json(res, b.status, { error: 'injected failure' });
    if (b.rawBody !== undefined) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(b.rawBody);
    }
    const texts = parsed.data.texts;
    if (texts.some((t) => t.includes(b.denyWord))) return json(res, 200, { action: 'deny', reason: 'blocked_word' });
    if (texts.some((t) => t.includes(b.maskWord)))
      return json(res, 200, { action: 'mask', texts: texts.map((t) => t.replaceAll(b.maskWord, '[REDACTED]')) });
    return json(res, 200, { action: 'allow' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/check`,
    requests: () => [...seen],
    maxInFlight: () => most,
    set: (next) => {
      b = { ...b, ...next };
    },
    reset: () => {
      b = { ...DEFAULTS, ...initial };
      seen.length = 0;
      most = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
