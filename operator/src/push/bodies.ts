/**
 * The bodies of one snapshot as each proxy gets it. Proxies differ only in their fleet view (the last key of the
 * snapshot), so the JSON of everything else is serialised, hashed and gzip-compressed once per snapshot, and each
 * view costs only its own few bytes: the version is the SHA-256 state of the shared prefix copied and finished with
 * the view, and the body is three gzip members (head with the version, the shared middle, the view), which a gzip
 * reader decompresses as one stream. The version is the same content hash the proxy recomputes
 * (shared/src/proxyconfig/hash.ts): the snapshot with `version` and `generatedAt` blanked.
 */
import { createHash, type Hash } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { FleetView, ProxyConfig } from '../../../shared/src/index.js';

const gzipAsync = promisify(gzip);

/**
 * One proxy's body: the version it will serve and the bytes to PUT (gzip or plain JSON), in parts sent one after
 * the other (the shared middle is one buffer for every proxy, never copied per proxy).
 */
export interface SnapshotBody {
  version: string;
  parts: Buffer[];
  encoding: 'gzip' | 'identity';
}

/** The JSON of a fleet view exactly as the proxy's parse prints it (schema key order). */
export function fleetJson(view: FleetView): string {
  const place = (p: { proxies: number; ordinal: number }) => `{"proxies":${p.proxies},"ordinal":${p.ordinal}`;
  const previous = view.previous ? `,"previous":[${view.previous.map((p) => `${place(p)}}`).join(',')}]` : '';
  return `${place(view)}${previous}}`;
}

export class SnapshotBodies {
  /** Version of the snapshot without a fleet view (the translation's). */
  readonly version: string;
  private readonly head: string;
  private readonly middle: string;
  private readonly hashPrefix: Hash;
  private gzMiddle: Promise<Buffer> | undefined;
  private plainMiddle: Buffer | undefined;
  private readonly cache = new Map<string, Promise<SnapshotBody>>();

  /** `config`: a translation's output (schema key order), without a fleet view. */
  constructor(readonly config: ProxyConfig) {
    this.version = config.version;
    const text = JSON.stringify(config);
    const marker = `"version":${JSON.stringify(config.version)}`;
    const at = text.indexOf(marker);
    if (at < 0 || at > 64 || config.fleet !== undefined) throw new Error('not a translated snapshot');
    this.head = text.slice(0, at);
    this.middle = text.slice(at + marker.length, -1);
    const blank = JSON.stringify({ ...config, version: '', generatedAt: '' });
    this.hashPrefix = createHash('sha256').update(blank.slice(0, -1));
  }

  /** Uncompressed size of the snapshot without a view (bytes of UTF-16 code units, close to its UTF-8 size). */
  get size(): number {
    return this.head.length + this.middle.length + 40;
  }

  /** The version a proxy with `view` serves (the translation's own without a view). */
  versionFor(view: FleetView | undefined): string {
    if (!view) return this.version;
    return this.hashPrefix
      .copy()
      .update(`,"fleet":${fleetJson(view)}}`)
      .digest('hex')
      .slice(0, 32);
  }

  /** The body for `view`, compressed unless `gzip` is false; built once per view and encoding. */
  body(view: FleetView | undefined, gzip = true): Promise<SnapshotBody> {
    const key = `${gzip ? 'gz' : 'id'}|${view ? fleetJson(view) : ''}`;
    let out = this.cache.get(key);
    if (!out) {
      out = this.build(view, gzip);
      this.cache.set(key, out);
      out.catch(() => this.cache.delete(key));
    }
    return out;
  }

  private async build(view: FleetView | undefined, gzip: boolean): Promise<SnapshotBody> {
    const version = this.versionFor(view);
    const head = `${this.head}"version":"${version}"`;
    const tail = `${view ? `,"fleet":${fleetJson(view)}` : ''}}`;
    if (!gzip) {
      this.plainMiddle ??= Buffer.from(this.middle);
      return { version, parts: [Buffer.from(head), this.plainMiddle, Buffer.from(tail)], encoding: 'identity' };
    }
    this.gzMiddle ??= gzipAsync(this.middle);
    const [h, m, t] = await Promise.all([gzipAsync(head), this.gzMiddle, gzipAsync(tail)]);
    return { version, parts: [h, m, t], encoding: 'gzip' };
  }
}
