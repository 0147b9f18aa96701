import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type FleetView, parseManifests, proxyConfig, snapshotVersion, translate } from '../../../shared/src/index.js';
import { poolManifests } from '../../../test/support/manifests.js';
import { SnapshotBodies } from './bodies.js';

const config = translate(
  parseManifests(
    poolManifests({
      name: 'b',
      model: 'm',
      urls: ['http://10.0.0.1:8000/v1', 'http://10.0.0.2:8000/v1'],
      backendSpec: '  maxConcurrency: 9',
    }),
  ),
).config;

/** What the proxy does with a body: decompress, parse with the schema, recompute the content hash. */
function asProxyReadsIt(parts: Buffer[], gzip: boolean) {
  const bytes = Buffer.concat(parts);
  const parsed = proxyConfig.parse(JSON.parse((gzip ? gunzipSync(bytes) : bytes).toString('utf8')));
  return { parsed, hash: snapshotVersion(parsed) };
}

describe('SnapshotBodies', () => {
  const views: (FleetView | undefined)[] = [
    undefined,
    { proxies: 3, ordinal: 2 },
    { proxies: 4, ordinal: 0, previous: [{ proxies: 3, ordinal: 0 }] },
    {
      proxies: 2,
      ordinal: 1,
      previous: [
        { proxies: 3, ordinal: 1 },
        { proxies: 4, ordinal: 3 },
      ],
    },
  ];

  it.each([true, false])(
    'builds bodies whose version is the content hash the proxy recomputes (gzip %s)',
    async (gz) => {
      const bodies = new SnapshotBodies(config);
      for (const view of views) {
        const b = await bodies.body(view, gz);
        const { parsed, hash } = asProxyReadsIt(b.parts, gz);
        expect(b.encoding).toBe(gz ? 'gzip' : 'identity');
        expect(parsed.fleet).toEqual(view);
        expect(parsed.version).toBe(b.version);
        expect(hash).toBe(b.version);
        expect(bodies.versionFor(view)).toBe(b.version);
        expect(parsed.backends).toEqual(config.backends);
      }
      expect(bodies.versionFor(undefined)).toBe(config.version);
      expect(new Set(views.map((v) => bodies.versionFor(v))).size).toBe(views.length);
    },
  );

  it('compresses the shared part once: every view sends the same middle buffer', async () => {
    const bodies = new SnapshotBodies(config);
    const [a, b] = await Promise.all([bodies.body(views[1]), bodies.body(views[2])]);
    expect(a.parts[1]).toBe(b.parts[1]);
    expect((a.parts[0]?.length ?? 0) + (a.parts[2]?.length ?? 0)).toBeLessThan(200);
  });
});
