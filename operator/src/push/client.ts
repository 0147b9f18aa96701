/**
 * HTTP calls to one proxy's admin API: `PUT /config` (snapshot push, bearer token, gzip or plain) and
 * `GET /config/version` (the version it serves and its fleet view). Both answers name the proxy process
 * (`instance`, new on every restart). Each call has a deadline; errors are PushError with the HTTP status (0 for
 * network errors).
 */
import http from 'node:http';
import { type FleetView, fleetView } from '../../../shared/src/index.js';
import type { SnapshotBody } from './bodies.js';

/** A failed call: status 0 for connection errors and timeouts. */
export class PushError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'PushError';
  }
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
/**
 * Errors of a request sent on a kept-alive connection the proxy had just closed as idle (its server's keep-alive
 * timeout; a busy operator only sees the close after it wrote the next request): sent again once on a new connection.
 */
const STALE_CONNECTION = new Set(['ECONNRESET', 'EPIPE']);

/** What a proxy says it serves: a version (undefined: nothing yet), the id of its process and its fleet view. */
export interface Served {
  version: string | undefined;
  instance: string | undefined;
  /** The fleet view it applies (undefined: none, it applies whole numbers, or it did not say). */
  fleet?: FleetView | undefined;
  /** Its requests in flight fit in its shares (false right after a smaller share, until they finish). */
  settled: boolean;
}

function call(
  method: string,
  url: string,
  path: string,
  token: string,
  body: Pick<SnapshotBody, 'parts' | 'encoding'> | undefined,
  timeoutMs: number,
  retryStale = true,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = { authorization: `Bearer ${token}`, accept: 'application/json' };
    if (body)
      Object.assign(headers, {
        'content-type': 'application/json',
        'content-length': body.parts.reduce((n, p) => n + p.length, 0),
        ...(body.encoding === 'gzip' ? { 'content-encoding': 'gzip' } : {}),
      });
    const req = http.request(`${url}${path}`, { method, headers, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (text.length < 65_536) text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', (e) => reject(new PushError(0, e.message)));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (retryStale && req.reusedSocket && STALE_CONNECTION.has(e.code ?? ''))
        resolve(call(method, url, path, token, body, timeoutMs, false));
      else reject(new PushError(0, e.message));
    });
    for (const part of body?.parts ?? []) req.write(part);
    req.end();
  });
}

function errorMessage(text: string): string {
  try {
    const j = JSON.parse(text) as { error?: { message?: string } | string };
    return typeof j.error === 'string' ? j.error : (j.error?.message ?? text.slice(0, 300));
  } catch {
    return text.slice(0, 300);
  }
}

function served(text: string): Served {
  const body = JSON.parse(text) as { version?: unknown; instance?: unknown; fleet?: unknown; settled?: unknown };
  const fleet = fleetView.safeParse(body.fleet);
  return {
    version: typeof body.version === 'string' ? body.version : undefined,
    instance: typeof body.instance === 'string' ? body.instance : undefined,
    ...(fleet.success ? { fleet: fleet.data } : {}),
    settled: body.settled !== false,
  };
}

/** PUTs a serialized snapshot; returns the version the proxy now serves. */
export async function putConfig(
  url: string,
  token: string,
  body: Pick<SnapshotBody, 'parts' | 'encoding'>,
  timeoutMs: number,
): Promise<Served> {
  const res = await call('PUT', url, '/config', token, body, timeoutMs);
  if (res.status !== 200) throw new PushError(res.status, `HTTP ${res.status}: ${errorMessage(res.text)}`);
  const answer = served(res.text);
  if (answer.version === undefined) throw new PushError(res.status, 'answer has no version');
  return answer;
}

/** What a proxy serves; version undefined when it has no snapshot yet (503). */
export async function getServed(url: string, token: string, timeoutMs: number): Promise<Served> {
  const res = await call('GET', url, '/config/version', token, undefined, timeoutMs);
  if (res.status === 503) return { version: undefined, instance: safe(() => served(res.text).instance), settled: true };
  if (res.status !== 200) throw new PushError(res.status, `HTTP ${res.status}: ${errorMessage(res.text)}`);
  return served(res.text);
}

function safe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}
