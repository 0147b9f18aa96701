/**
 * The proxy image: its Dockerfile follows the image rules, and the image built from it (test/cluster/build.sh,
 * buildah) ships compiled JS and production dependencies only, bakes in nothing of the build (no CA bundle, no npm
 * settings or cache), and — run from its own root filesystem with its own tini and node as uid 65532, tini as
 * PID 1 — drains a stream on SIGTERM and exits 0. The cluster tests (test/cluster) show the rest for real: probes,
 * security context, rolling updates, `helm test`; the exit code of a drained proxy is what they cannot see.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterManifest, SKIP_CLUSTER } from '../cluster/index.js';
import { freePort } from '../control-plane/index.js';
import { waitFor } from '../support/wait.js';
import { execForm, parseDockerfile, readDockerfile, stageOf } from './dockerfile.js';
import { ROOT } from './helm.js';
import {
  expectRuntimeConfig,
  type ImageConfig,
  type ImageProcess,
  installedPackages,
  runImage,
  unpackImage,
} from './image.js';

const UID = 65532;

describe.each(['Dockerfile.proxy', 'Dockerfile.operator'])('%s', (name) => {
  it('is multi-stage, production-only, non-root, tini-started and without HEALTHCHECK', async () => {
    const stages = parseDockerfile(await readDockerfile(name));
    expect(stages.map((s) => s.name)).toEqual(['build', 'deps', 'tini', 'stage3']);
    const runtime = stageOf(stages);
    const ops = runtime.instructions.map((i) => i.op);
    expect(ops).not.toContain('RUN'); // distroless: no shell
    expect(ops).not.toContain('ADD');
    expect(stages.flatMap((s) => s.instructions).map((i) => i.op)).not.toContain('HEALTHCHECK');
    expect(runtime.instructions.find((i) => i.op === 'USER')?.args).toBe(`${UID}:${UID}`);
    expect(execForm(runtime, 'ENTRYPOINT').slice(0, 2)).toEqual(['/usr/bin/tini', '--']);
    const deps = stageOf(stages, 'deps').instructions.filter((i) => i.op === 'RUN');
    expect(deps.map((i) => i.args).join(' ')).toMatch(/npm (ci|install) --omit=dev/);
    const component = name.split('.')[1] as string;
    expect(execForm(runtime, 'CMD')).toEqual([`dist/${component}/src/main.js`]);
  });

  it('builds from a context the .dockerignore lets through', async () => {
    const ignore = await readFile(join(ROOT, '.dockerignore'), 'utf8');
    const allowed = ignore
      .split('\n')
      .filter((l) => l.startsWith('!'))
      .map((l) => l.slice(1).replace(/\/$/, ''));
    const stages = parseDockerfile(await readDockerfile(name));
    const sources = stages
      .flatMap((s) => s.instructions)
      .filter((i) => i.op === 'COPY' && !i.args.includes('--from='))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    for (const src of sources) {
      expect(allowed, src).toContain(src);
      expect(existsSync(join(ROOT, src)), src).toBe(true);
    }
  });
});

describe.skipIf(SKIP_CLUSTER)('proxy image built from Dockerfile.proxy', () => {
  let dir: string;
  let image: { config: ImageConfig; rootfs: string };
  let upstream: http.Server;
  let release: () => void = () => {};
  const released = new Promise<void>((r) => {
    release = r;
  });
  let proc: ImageProcess | undefined;

  beforeAll(async () => {
    const manifest = await clusterManifest();
    dir = await mkdtemp(join(tmpdir(), 'switchyard-image-'));
    image = await unpackImage(manifest.images.proxy.archive, dir);
    upstream = http.createServer((req, res) => {
      if (req.url === '/v1/chat/completions') {
        const chunk = (content: string) =>
          `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(chunk('hello '));
        void released.then(() => res.end(`${chunk('world')}data: [DONE]\n\n`));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  }, 60 * 60_000);

  afterAll(async () => {
    proc?.child.kill('SIGKILL');
    release();
    upstream?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('has the runtime config of its Dockerfile and nothing of the build', () => {
    expectRuntimeConfig(image.config, image.rootfs, 'proxy');
    expect(Object.keys(image.config.ExposedPorts ?? {}).sort()).toEqual(['8080/tcp', '9090/tcp']);
  });

  it('ships compiled JS and production dependencies only', async () => {
    const app = join(image.rootfs, 'app');
    const packages = await installedPackages(join(app, 'node_modules'));
    for (const dev of ['typescript', 'vitest', 'tsx', '@biomejs/biome', 'openai', '@kubernetes/client-node'])
      expect(packages).not.toContain(dev);
    expect(packages).toEqual(expect.arrayContaining(['hono', 'zod', 'pino']));
    expect(existsSync(join(app, 'dist', 'proxy', 'src', 'main.js'))).toBe(true);
    expect(existsSync(join(app, 'dist', 'operator'))).toBe(false);
    expect(JSON.parse(await readFile(join(app, 'package.json'), 'utf8')).type).toBe('module');
  });

  it('runs as uid 65532 under tini as PID 1, serves a stream, drains it on SIGTERM and exits 0', async () => {
    const port = await freePort();
    const adminPort = await freePort();
    const { port: up } = upstream.address() as AddressInfo;
    // inside the image's root filesystem, readable by uid 65532
    await writeFile(
      join(image.rootfs, 'tmp', 'config.yaml'),
      `apiVersion: switchyard.dev/v1alpha1
kind: LLMBackend
metadata: { name: up, namespace: default }
spec:
  provider: openai-compatible
  endpoints: [{ url: "http://127.0.0.1:${up}/v1" }]
  models: [{ name: m }]
  healthCheck: { enabled: false }
---
apiVersion: switchyard.dev/v1alpha1
kind: LLMPool
metadata: { name: m, namespace: default }
spec: { model: m, backendRefs: [{ name: up }] }
`,
      { mode: 0o444 },
    );
    const flags = ['--config', '/tmp/config.yaml', '--host', '127.0.0.1', '--port', String(port)];
    proc = runImage(image, [...flags, '--admin-port', String(adminPort)], { LOG_LEVEL: 'info' });
    const running = proc;
    const admin = `http://127.0.0.1:${adminPort}`;
    const ready = async () => (await fetch(`${admin}/readyz`).catch(() => undefined))?.status === 200;
    await waitFor(ready, 30_000, `/readyz (log: ${running.output()})`);
    const tini = await running.entrypointPid();
    const status = await readFile(`/proc/${tini}/status`, 'utf8');
    expect(status).toMatch(new RegExp(`^Uid:\\s+${UID}\\s`, 'm'));
    expect(status).toMatch(/^NSpid:\s+\d+\s+1$/m); // PID 1 of its namespace, as in a container
    expect(await readFile(`/proc/${tini}/cmdline`, 'utf8')).toMatch(/^\/usr\/bin\/tini\0/);
    const models = (await (await fetch(`http://127.0.0.1:${port}/v1/models`)).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toContain('m');

    const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes('hello')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    process.kill(tini, 'SIGTERM'); // to tini, which forwards it to node
    await waitFor(() => running.output().includes('draining'), 15_000, `"draining" in the log (${running.output()})`);
    release();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    expect(text).toContain('world');
    expect(text).toContain('[DONE]');
    expect(await running.exited, running.output()).toBe(0);
    proc = undefined;
  }, 60_000);
});
