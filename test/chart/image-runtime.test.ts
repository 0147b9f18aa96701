/**
 * The container images without a container engine: the Dockerfiles follow the image rules, and the proxy image's
 * stages replayed on the host (production-only npm install, compiled JS, the runtime stage's COPY lines, its
 * ENTRYPOINT/CMD under tini as uid 65532 in a directory it cannot write) serve a streamed request and drain it on
 * SIGTERM before exiting 0. The chart's `helm test` hook script passes against it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../control-plane/index.js';
import { waitFor } from '../support/wait.js';
import { execForm, parseDockerfile, readDockerfile, replayStages, stageOf } from './dockerfile.js';
import { ROOT } from './helm.js';
import { runTestHook } from './hook.js';

const UID = 65532;
const TINI = '/usr/bin/tini';

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

describe('proxy image, runtime stage replayed on the host', () => {
  let dir: string;
  let app: { rootfs: string; workdir: string };
  let upstream: http.Server;
  let release: () => void = () => {};
  const released = new Promise<void>((r) => {
    release = r;
  });
  let proc: ChildProcess | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-image-'));
    await chmod(dir, 0o755); // uid 65532 must reach the replayed root filesystem
    app = await replayStages(parseDockerfile(await readDockerfile('Dockerfile.proxy')), dir);
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
  }, 300_000);

  afterAll(async () => {
    proc?.kill('SIGKILL');
    release();
    upstream?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('ships compiled JS and production dependencies only', async () => {
    const modules = await readdir(join(app.workdir, 'node_modules'));
    for (const dev of ['typescript', 'vitest', 'tsx', '@biomejs', 'openai', '@kubernetes'])
      expect(modules).not.toContain(dev);
    expect(modules).toEqual(expect.arrayContaining(['hono', 'zod', 'pino']));
    expect(existsSync(join(app.workdir, 'dist', 'proxy', 'src', 'main.js'))).toBe(true);
    expect(existsSync(join(app.workdir, 'dist', 'operator'))).toBe(false);
    expect(JSON.parse(await readFile(join(app.workdir, 'package.json'), 'utf8')).type).toBe('module');
  });

  it('runs as uid 65532 under tini, serves a stream, drains it on SIGTERM and exits 0', async () => {
    const port = await freePort();
    const adminPort = await freePort();
    const config = join(dir, 'config.yaml');
    const { port: up } = upstream.address() as AddressInfo;
    await writeFile(
      config,
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
    const rootfs = (p: string) => join(app.rootfs, p);
    const stages = parseDockerfile(await readDockerfile('Dockerfile.proxy'));
    const runtime = stageOf(stages);
    // ENTRYPOINT + CMD as in the image; the distroless node is this Node; tini is the one COPY placed in the rootfs
    const command = [...execForm(runtime, 'ENTRYPOINT'), ...execForm(runtime, 'CMD')].map((a) =>
      a === '/nodejs/bin/node' ? process.execPath : a === TINI ? rootfs(TINI) : a,
    );
    expect(existsSync(rootfs(TINI)), 'tini (apt-get install tini)').toBe(true);
    const flags = [
      '--config',
      config,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--admin-port',
      String(adminPort),
    ];
    const asRoot = process.getuid?.() === 0;
    const argv = asRoot
      ? ['setpriv', `--reuid=${UID}`, `--regid=${UID}`, '--clear-groups', '--', ...command, ...flags]
      : [...command, ...flags];
    let log = '';
    proc = spawn(argv[0] as string, argv.slice(1), {
      cwd: app.workdir,
      env: { PATH: process.env.PATH, HOME: '/nonexistent', NODE_ENV: 'production', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((r) => proc?.once('exit', (code) => r(code)));
    proc.stdout?.on('data', (d: Buffer) => {
      log += d.toString();
    });
    proc.stderr?.on('data', (d: Buffer) => {
      log += d.toString();
    });
    const admin = `http://127.0.0.1:${adminPort}`;
    const ready = async () => (await fetch(`${admin}/readyz`).catch(() => undefined))?.status === 200;
    await waitFor(ready, 30_000, `/readyz (log: ${log})`);
    if (asRoot) {
      const status = await readFile(`/proc/${proc.pid}/status`, 'utf8');
      expect(status).toMatch(new RegExp(`^Uid:\\s+${UID}\\s`, 'm'));
    }
    const models = (await (await fetch(`http://127.0.0.1:${port}/v1/models`)).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toContain('m');
    const hook = await runTestHook(admin, `http://127.0.0.1:${port}/v1`); // the chart's `helm test` script
    expect(hook.output).toContain('models: m');
    expect(hook.code, hook.output).toBe(0);

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
    process.kill(proc.pid as number, 'SIGTERM'); // to tini, which forwards it to node
    await waitFor(() => log.includes('draining'), 15_000, `"draining" in the log (log: ${log})`);
    release();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    expect(text).toContain('world');
    expect(text).toContain('[DONE]');
    expect(await exited, log).toBe(0);
    proc = undefined;
  }, 60_000);
});
