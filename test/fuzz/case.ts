/** What a fuzz case is, whichever fuzzer made it, and how its request is written on the wire. */
import type { Behaviour } from './http-client.js';

/** Which fuzzer made a case. */
export type Tier = 'client' | 'upstream';

/** One case: the bytes to send, how to behave, and what the checks need to know about it. */
export interface FuzzCase {
  tier: Tier;
  seed: number;
  index: number;
  /** Unique id (also the hostile marker's case id). */
  id: string;
  /** Label for per-class counts (mutation or hostile class). */
  cls: string;
  /** One line saying what the case does. */
  summary: string;
  method: string;
  path: string;
  /** The bytes written to the proxy. */
  request: Buffer;
  behaviour: Behaviour;
  /** Responses expected on the connection (pipelined requests). */
  expected: number;
  /** Which of them answer a HEAD request (no body), in order. */
  heads: boolean[];
  /** The request target behind each expected answer after the first (pipelined requests); `path` is the first. */
  morePaths?: string[];
  /** Malformed at the HTTP level: Node's own bare 4xx is an acceptable answer. */
  httpMalformed: boolean;
  /** The request is unchanged from a valid one: it must succeed. */
  control: boolean;
  deadlineMs: number;
  /** Smaller cases (one mutation step dropped each), for shrinking a failure to a minimal reproduction. */
  shrink?: () => FuzzCase[];
}

/** A request as lines of a head plus a body, before any wire-level mutation. */
export interface WireRequest {
  method: string;
  target: string;
  version: string;
  headers: [string, string][];
  body: Buffer;
}

/** The request bytes, with a content-length unless the headers already frame the body. */
export function toWire(r: WireRequest): Buffer {
  const names = new Set(r.headers.map(([k]) => k.toLowerCase()));
  const framed = names.has('content-length') || names.has('transfer-encoding');
  let head = `${r.method} ${r.target} ${r.version}\r\n`;
  for (const [k, v] of r.headers) head += `${k}: ${v}\r\n`;
  if (!framed && (r.body.length > 0 || r.method === 'POST')) head += `content-length: ${r.body.length}\r\n`;
  return Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), r.body]);
}

/** A case as text a person can re-send: the head verbatim and the body cut to `max` bytes. */
export function describeRequest(c: FuzzCase, max = 1500): string {
  const req = c.request;
  const headEnd = req.indexOf('\r\n\r\n');
  const head = (headEnd < 0 ? req : req.subarray(0, headEnd)).toString('latin1');
  const body = headEnd < 0 ? Buffer.alloc(0) : req.subarray(headEnd + 4);
  const shown = JSON.stringify(body.subarray(0, max).toString('utf8'));
  const more = body.length > max ? ` … (${body.length} bytes in all)` : '';
  const cutHead = head.length > 2000 ? `${head.slice(0, 2000)} … (${head.length} bytes of head)` : head;
  return `${cutHead}\n\nbody: ${shown}${more}\nbehaviour: ${JSON.stringify(c.behaviour)}`;
}
