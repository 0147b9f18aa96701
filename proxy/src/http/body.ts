/**
 * Reads a JSON request body under a size limit. On Node it reads the raw IncomingMessage (no Web-streams
 * conversion on the hot path); elsewhere (tests via app.request) it falls back to the Fetch Request.
 */
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import type { Env } from '../env.js';
import { errors } from '../errors.js';

function readNode(incoming: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(incoming.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(errors.tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        incoming.resume();
        reject(errors.tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    const onError = (e: Error) => {
      cleanup();
      reject(errors.invalid(`could not read request body: ${e.message}`));
    };
    const cleanup = () => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
    };
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
  });
}

/** Raw request body bytes, or a 413 GatewayError past `limit`. */
export async function readBody(c: Context<Env>, limit: number): Promise<Buffer> {
  const incoming = c.env?.incoming;
  if (incoming) return readNode(incoming, limit);
  const buf = Buffer.from(await c.req.arrayBuffer());
  if (buf.length > limit) throw errors.tooLarge(limit);
  return buf;
}

/** Parsed JSON object body; 400 for malformed JSON or a non-object. */
export async function readJsonObject(c: Context<Env>, limit: number): Promise<Record<string, unknown>> {
  const raw = await readBody(c, limit);
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw errors.invalid(
      `We could not parse the JSON body of your request. (${e instanceof Error ? e.message : 'invalid JSON'})`,
      null,
      'invalid_json',
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw errors.invalid('The request body must be a JSON object.', null, 'invalid_json');
  }
  return value as Record<string, unknown>;
}
