/**
 * Out-of-band control endpoints under `/_sim/` (never part of a real protocol, not counted in stats):
 * `GET /_sim/stats`, `GET|POST|DELETE /_sim/faults`, `POST /_sim/reset`, `POST /_sim/timing`,
 * `POST /_sim/loading`, `GET /_sim/requests`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { faultSpecSchema } from './faults.js';
import type { Runtime } from './runtime.js';

const timingSchema = z.strictObject({ ttftMs: z.number().min(0).optional(), itlMs: z.number().min(0).optional() });
const loadingSchema = z.strictObject({ loading: z.boolean() });

function reply(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let raw = '';
  for await (const chunk of req) raw += String(chunk);
  return raw.trim() === '' ? null : JSON.parse(raw);
}

/** Serves one `/_sim/*` request. */
export async function control(rt: Runtime, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  const route = `${req.method} ${path}`;
  try {
    const body = req.method === 'POST' ? await readJson(req) : null;
    switch (route) {
      case 'GET /_sim/stats':
        return reply(res, 200, rt.stats());
      case 'GET /_sim/requests':
        return reply(res, 200, rt.requests());
      case 'GET /_sim/faults':
        return reply(res, 200, rt.faults.current);
      case 'DELETE /_sim/faults':
        rt.faults.set(null);
        return reply(res, 200, null);
      case 'POST /_sim/faults': {
        const spec = body === null ? null : faultSpecSchema.parse(body);
        rt.faults.set(spec);
        return reply(res, 200, rt.faults.current);
      }
      case 'POST /_sim/reset':
        rt.resetStats();
        return reply(res, 200, rt.stats());
      case 'POST /_sim/timing': {
        const t = timingSchema.parse(body ?? {});
        Object.assign(rt.timing, t);
        return reply(res, 200, rt.timing);
      }
      case 'POST /_sim/loading':
        rt.setLoading(loadingSchema.parse(body).loading);
        return reply(res, 200, { loading: rt.loading });
      default:
        return reply(res, 404, { error: `unknown control endpoint ${route}` });
    }
  } catch (err) {
    const message = err instanceof z.ZodError ? z.prettifyError(err) : String(err);
    reply(res, 400, { error: message });
  }
}
