/**
 * The operator image built from Dockerfile.operator (test/cluster/build.sh): the runtime config of its Dockerfile,
 * nothing of the build baked in, and only what the operator imports — none of the proxy-only packages. That it
 * loads and runs (elected, pushing) is shown by the cluster tests, where it runs as a pod.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterManifest, SKIP_CLUSTER } from '../cluster/index.js';
import { expectRuntimeConfig, type ImageConfig, installedPackages, unpackImage } from './image.js';

describe.skipIf(SKIP_CLUSTER)('operator image built from Dockerfile.operator', () => {
  let dir: string;
  let image: { config: ImageConfig; rootfs: string };

  beforeAll(async () => {
    const manifest = await clusterManifest();
    dir = await mkdtemp(join(tmpdir(), 'switchyard-image-'));
    image = await unpackImage(manifest.images.operator.archive, dir);
  }, 60 * 60_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('has the runtime config of its Dockerfile and nothing of the build', () => {
    expectRuntimeConfig(image.config, image.rootfs, 'operator');
    expect(Object.keys(image.config.ExposedPorts ?? {})).toEqual(['9090/tcp']);
  });

  it('holds the operator and its production dependencies, none of the proxy-only packages', async () => {
    const app = join(image.rootfs, 'app');
    expect(await readdir(join(app, 'dist'))).toEqual(['operator', 'shared']);
    const packages = await installedPackages(join(app, 'node_modules'));
    expect(packages).toContain('@kubernetes/client-node');
    for (const proxyOnly of ['hono', '@hono/node-server', 'ioredis', 'undici'])
      expect(packages, proxyOnly).not.toContain(proxyOnly);
    // prom-client needs @opentelemetry/api (exemplars); the SDK and exporters stay out.
    expect(packages.filter((p) => p.startsWith('@opentelemetry/'))).toEqual(['@opentelemetry/api']);
    for (const dev of ['typescript', 'vitest', 'tsx', '@biomejs/biome']) expect(packages, dev).not.toContain(dev);
  });
});
