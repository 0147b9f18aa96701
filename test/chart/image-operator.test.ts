/**
 * The operator image's stages replayed on the host (see dockerfile.ts): the runtime stage started as uid 65532
 * loads the operator's whole module graph from the production-only install, which holds none of the proxy-only
 * packages.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { execForm, parseDockerfile, readDockerfile, replayStages, stageOf } from './dockerfile.js';

const UID = 65532;
const TINI = '/usr/bin/tini';

describe('operator image, runtime stage replayed on the host', () => {
  let dir: string;

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('loads its whole module graph from the production install as uid 65532', async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-image-'));
    await chmod(dir, 0o755);
    const stages = parseDockerfile(await readDockerfile('Dockerfile.operator'));
    const app = await replayStages(stages, dir);
    expect(await readdir(join(app.workdir, 'dist'))).toEqual(['operator', 'shared']);
    // Only what the operator imports: none of the proxy's server, Redis, upstream or tracing packages.
    const modules = await readdir(join(app.workdir, 'node_modules'));
    expect(modules).toContain('@kubernetes');
    for (const proxyOnly of ['hono', '@hono', 'ioredis', 'undici']) expect(modules, proxyOnly).not.toContain(proxyOnly);
    // prom-client needs @opentelemetry/api (exemplars); the SDK and exporters stay out.
    expect(await readdir(join(app.workdir, 'node_modules/@opentelemetry'))).toEqual(['api']);
    const runtime = stageOf(stages);
    const command = [...execForm(runtime, 'ENTRYPOINT'), ...execForm(runtime, 'CMD')].map((a) =>
      a === '/nodejs/bin/node' ? process.execPath : a === TINI ? join(app.rootfs, TINI) : a,
    );
    const argv =
      process.getuid?.() === 0
        ? ['setpriv', `--reuid=${UID}`, `--regid=${UID}`, '--clear-groups', '--', ...command]
        : command;
    // Without flags the operator stops at its own flag check (exit 2): every import before it resolved.
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(argv[0] as string, argv.slice(1), {
        cwd: app.workdir,
        env: { PATH: process.env.PATH, HOME: '/nonexistent', NODE_ENV: 'production' },
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.on('exit', (c) => resolve({ code: c, output: out }));
    });
    expect(output).toContain('error: --proxy-service NAMESPACE/NAME is required');
    expect(code).toBe(2);
  }, 300_000);
});
