/**
 * Reads a JSON request body under its bounds: a size limit (413), a time limit from the moment the headers arrived
 * (408), a nesting limit (400) and, for callers without a valid API key, a byte budget shared by all of them (503).
 * A body refused before its last byte closes the connection: the rest is never read. It reads Node's raw
 * IncomingMessage (no Web-streams conversion on the hot path).
 */
import type { IncomingMessage } from 'node:http';
import { type Clock, systemClock } from '../../../shared/src/clock.js';
import { errors, type GatewayError } from '../errors.js';
import type { ByteBudget } from './byte-budget.js';
import { jsonBoundExceeded } from './json-shape.js';
import type { ResourceLimits } from './limits.js';

export interface BodyReadOptions {
  limits: Pick<ResourceLimits, 'maxBodyBytes' | 'bodyTimeoutMs' | 'maxJsonDepth' | 'maxJsonValues'>;
  /** Budget the body's bytes are taken from while it is read (callers without a valid API key). */
  budget?: ByteBudget | undefined;
  /** Clock of the time limit (default: the system clock). */
  clock?: Clock | undefined;
}

function readNode(incoming: IncomingMessage, opts: BodyReadOptions): Promise<Buffer> {
  const { maxBodyBytes: limit, bodyTimeoutMs } = opts.limits;
  const declared = Number(incoming.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(errors.tooLarge(limit));
  const budget = opts.budget;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let taken = 0;
    const clock = opts.clock ?? systemClock;
    const timer =
      bodyTimeoutMs > 0 ? clock.after(bodyTimeoutMs, () => fail(errors.requestTimeout(bodyTimeoutMs))) : undefined;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return fail(errors.tooLarge(limit));
      if (budget) {
        if (!budget.take(chunk.length)) return fail(errors.unauthenticatedBytes());
        taken += chunk.length;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    const onError = (e: Error) => fail(errors.invalid(`could not read request body: ${e.message}`));
    const onClose = () => fail(errors.invalid('the client closed the connection before the body ended'));
    /** Stops reading for good: the error's `connection: close` ends the connection once it is answered. */
    const fail = (e: GatewayError) => {
      cleanup();
      incoming.pause();
      reject(e);
    };
    const cleanup = () => {
      timer?.cancel();
      budget?.give(taken);
      taken = 0;
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
      incoming.off('close', onClose);
    };
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
    incoming.on('close', onClose);
  });
}

/**
 * The parsed JSON object body of `incoming`; 408/413/503 for a body past its bounds, 400 for malformed JSON, a
 * non-object, nesting deeper than the limit or more values than the limit.
 */
export async function readJsonObject(
  incoming: IncomingMessage,
  opts: BodyReadOptions,
): Promise<Record<string, unknown>> {
  const raw = await readNode(incoming, opts);
  const { maxJsonDepth, maxJsonValues } = opts.limits;
  const exceeded = jsonBoundExceeded(raw, maxJsonDepth, maxJsonValues);
  if (exceeded === 'depth')
    throw errors.invalid(
      `The JSON body nests objects and arrays deeper than ${maxJsonDepth} levels.`,
      null,
      'json_too_deep',
    );
  if (exceeded === 'values')
    throw errors.invalid(`The JSON body has more than ${maxJsonValues} values.`, null, 'json_too_large');
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
