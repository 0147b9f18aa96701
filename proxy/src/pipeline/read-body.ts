/** Reads a whole upstream body under a size limit (error bodies, non-streamed answers). */
import type { Readable } from 'node:stream';
import { errors } from '../errors.js';

export async function readUpstreamBody(body: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > limit) {
      body.destroy();
      throw errors.badGateway(`upstream answer exceeds ${limit} bytes`, 'upstream_response_too_large');
    }
    chunks.push(b);
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
}
