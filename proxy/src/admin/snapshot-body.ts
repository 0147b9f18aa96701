/**
 * Reads a pushed snapshot's body: plain JSON or `Content-Encoding: gzip` (one or several concatenated gzip members,
 * as the operator sends them), never more than `maxBytes` on the wire nor after decompression, so neither a huge
 * upload nor a small compressed bomb can make the proxy hold more than the bound.
 */
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';

const gunzipAsync = promisify(gunzip);

/** Why a body was refused: the HTTP status and message of the answer. */
export class SnapshotBodyError extends Error {
  constructor(
    readonly status: 400 | 413 | 415,
    message: string,
  ) {
    super(message);
    this.name = 'SnapshotBodyError';
  }
}

async function readBounded(req: Request, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes)
    throw new SnapshotBodyError(413, `snapshot exceeds ${maxBytes} bytes`);
  if (!req.body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new SnapshotBodyError(413, `snapshot exceeds ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}

/** The body's JSON text; throws SnapshotBodyError for an unsupported encoding, too many bytes or broken gzip. */
export async function readSnapshotText(req: Request, maxBytes: number): Promise<string> {
  const encoding = (req.headers.get('content-encoding') ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' && encoding !== 'gzip')
    throw new SnapshotBodyError(415, `unsupported content-encoding '${encoding.slice(0, 40)}' (gzip or none)`);
  const raw = await readBounded(req, maxBytes);
  if (encoding === 'identity') return raw.toString('utf8');
  try {
    return (await gunzipAsync(raw, { maxOutputLength: maxBytes })).toString('utf8');
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE')
      throw new SnapshotBodyError(413, `snapshot exceeds ${maxBytes} bytes once decompressed`);
    throw new SnapshotBodyError(400, 'snapshot is not valid gzip');
  }
}
