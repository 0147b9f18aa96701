/**
 * JSON helpers every protocol shares: type guards, upstream JSON read against a shape, the "cannot translate" 400
 * and the "bad upstream" 502, ids, tool-call arguments.
 */
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { formatPath } from '../../../../shared/src/manifests/parse.js';
import { errors, GatewayError } from '../../errors.js';

/** A JSON object as read from the wire, before a schema says more. */
export type Json = Record<string, unknown>;

export function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A 400 for a field the target protocol cannot express; `param` names the field as the client sent it. */
export function untranslatable(param: string, why: string): GatewayError {
  return errors.invalid(`${param}: ${why}`, param, 'untranslatable_field');
}

/** A 400 for a request body its schema refused, naming the first invalid field. */
export function validationError(error: z.ZodError): GatewayError {
  const issue = error.issues[0];
  const param = issue ? formatPath(issue.path) : '';
  const detail = issue ? `${param ? `${param}: ` : ''}${issue.message}` : 'invalid request';
  return errors.invalid(`Invalid request: ${detail}`, param || null, 'invalid_value');
}

/** A 502 for an upstream answer the gateway cannot translate. */
export function badUpstream(message: string, code = 'upstream_invalid_response'): GatewayError {
  return new GatewayError(502, 'upstream', message, { code });
}

/**
 * `data` (a schema's output) with the keys of every object in the order they had in `raw` (the input it was parsed
 * from): a schema lists its declared keys first, and bodies the gateway passes through keep their client's or
 * upstream's order. Keys only `data` has (none, for schemas without defaults) stay last. Objects already in order
 * are kept; the others are rebuilt in order (deleting and re-adding keys would turn them into slow dictionaries).
 */
export function inKeyOrder<T>(data: T, raw: unknown): T {
  if (typeof data !== 'object' || data === null || data === raw || typeof raw !== 'object' || raw === null) return data;
  if (Array.isArray(data)) {
    if (!Array.isArray(raw)) return data;
    for (let i = 0; i < data.length; i++) data[i] = inKeyOrder(data[i], raw[i]);
    return data;
  }
  if (Array.isArray(raw)) return data;
  const d = data as Json;
  const r = raw as Json;
  const keys = Object.keys(d);
  for (const k of keys) {
    const v = d[k];
    if (typeof v === 'object' && v !== null) d[k] = inKeyOrder(v, r[k]);
  }
  let i = 0;
  let inOrder = true;
  for (const k in r) {
    if (!Object.hasOwn(d, k)) continue;
    if (keys[i] !== k) {
      inOrder = false;
      break;
    }
    i++;
  }
  if (inOrder) return data;
  const out: Json = {};
  for (const k in r) if (Object.hasOwn(d, k)) out[k] = d[k];
  for (const k of keys) if (!Object.hasOwn(r, k)) out[k] = d[k];
  return out as T;
}

/**
 * Parses an upstream JSON answer and checks it against `shape` (the fields the gateway relies on, with their types;
 * everything else passes untouched). A body that is not such a JSON object is an upstream failure (502).
 */
export function parseUpstreamJson<T>(body: Buffer, shape: z.ZodType<T>): T {
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    v = undefined;
  }
  if (!isRecord(v))
    throw errors.badGateway('upstream answered with a body that is not a JSON object', 'upstream_invalid_response');
  const checked = shape.safeParse(v);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
    throw errors.badGateway(`upstream answer is malformed${where}`, 'upstream_invalid_response');
  }
  return inKeyOrder(checked.data, v);
}

/** One upstream stream event or line as a JSON object; anything else is a malformed stream (502). */
export function parseStreamEvent(data: string, what = 'stream event'): Json {
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    throw badUpstream(`upstream sent a malformed ${what}`, 'upstream_invalid_stream');
  }
  if (!isRecord(v)) throw badUpstream(`upstream sent a ${what} that is not a JSON object`, 'upstream_invalid_stream');
  return v;
}

/** One stream event checked against `shape`; an event without the fields the decoder reads is malformed (502). */
export function parseStreamEventAs<T>(data: string, shape: z.ZodType<T>, what = 'stream event'): T {
  const checked = shape.safeParse(parseStreamEvent(data, what));
  if (!checked.success) throw badUpstream(`upstream sent a malformed ${what}`, 'upstream_invalid_stream');
  return checked.data;
}

/** The error for a stream that ends (`[DONE]`, `message_stop`) before it carried any answer. */
export function emptyStream(): GatewayError {
  return badUpstream('upstream ended the stream without an answer', 'upstream_empty_stream');
}

/** The error for a stream the upstream closed before its end marker. */
export function incompleteStream(): GatewayError {
  return badUpstream('upstream closed the stream before it completed', 'upstream_stream_incomplete');
}

/** A random id with a vendor prefix (`call_`, `toolu_`, `msg_`, `chatcmpl-`). */
export function randomId(prefix: string, bytes = 12): string {
  return prefix + randomBytes(bytes).toString('base64url');
}

/** Parses a tool call's JSON-string arguments into an object; `param` names the field for the 400/502. */
export function parseArguments(args: string, param: string, upstream = false): Json {
  const text = args.trim() === '' ? '{}' : args;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = undefined;
  }
  if (isRecord(v)) return v;
  const why = 'tool call arguments must be a JSON object';
  throw upstream ? badUpstream(`${param}: ${why}`, 'upstream_invalid_tool_arguments') : untranslatable(param, why);
}

/** Rejects `value` at `param` unless it is absent or equal to a value that means "default". */
export function refuseUnlessDefault(body: Readonly<Json>, param: string, why: string, defaults: unknown[] = []): void {
  const v = body[param];
  if (v === undefined || v === null || defaults.includes(v)) return;
  throw untranslatable(param, why);
}

/** Refuses any field of `body` outside `handled` that is set (not undefined/null, nor one of `unset`). */
export function refuseUnknownFields(
  body: Readonly<Json>,
  handled: ReadonlySet<string>,
  why: string,
  unset: readonly unknown[] = [],
): void {
  for (const [k, v] of Object.entries(body))
    if (!handled.has(k) && v !== undefined && v !== null && !unset.includes(v)) throw untranslatable(k, why);
}
