/**
 * Reads a whole upstream body under a size limit (error bodies, non-streamed answers). Plain stream events, not
 * `for await`: the async iterator costs a few microseconds per answer on the hot path.
 */
import type { Readable } from 'node:stream';
import { errors } from '../errors.js';

export function readUpstreamBody(body: Readable, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (b: Buffer) => {
      size += b.length;
      if (size > limit) {
        done();
        body.destroy();
        reject(errors.badGateway(`upstream answer exceeds ${limit} bytes`, 'upstream_response_too_large'));
        return;
      }
      chunks.push(b);
    };
    const onEnd = () => {
      done();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    // Stays attached: destroying an unfinished undici body emits 'error', which must not go unheard.
    const onError = (e: Error) => {
      done();
      reject(e);
    };
    const done = () => {
      body.off('data', onData);
      body.off('end', onEnd);
    };
    body.on('data', onData);
    body.once('end', onEnd);
    body.on('error', onError);
  });
}
