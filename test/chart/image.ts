/**
 * The project's images as built by test/cluster/build.sh (buildah, from the Dockerfiles as they are), read from
 * their docker-archive files: the image config, and the root filesystem unpacked layer by layer to run the image's
 * own entrypoint in it (`runImage`: its tini, its node, its node_modules, as uid 65532, tini as PID 1).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { expect } from 'vitest';
import { z } from 'zod';
import { run } from '../control-plane/index.js';

const imageConfigSchema = z.object({
  config: z.object({
    User: z.string().optional(),
    Env: z.array(z.string()).optional(),
    Entrypoint: z.array(z.string()).nullish(),
    Cmd: z.array(z.string()).nullish(),
    WorkingDir: z.string().optional(),
    ExposedPorts: z.record(z.string(), z.unknown()).nullish(),
    Healthcheck: z.unknown().optional(),
  }),
});
/** The runtime part of an OCI/Docker image config. */
export type ImageConfig = z.infer<typeof imageConfigSchema>['config'];

const archiveManifestSchema = z.array(z.object({ Config: z.string(), Layers: z.array(z.string()) })).min(1);

async function sh(cmd: string, args: string[]): Promise<string> {
  const res = await run(cmd, args, process.env, undefined, 300_000);
  if (res.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${res.stderr.trim()}`);
  return res.stdout;
}

/** Unpacks a docker-archive into `dir`: returns the image config and the merged root filesystem (`dir/rootfs`). */
export async function unpackImage(archive: string, dir: string): Promise<{ config: ImageConfig; rootfs: string }> {
  const raw = join(dir, 'archive');
  const rootfs = join(dir, 'rootfs');
  await mkdir(raw, { recursive: true });
  await mkdir(rootfs, { recursive: true });
  await sh('tar', ['-xf', archive, '-C', raw]);
  const [manifest] = archiveManifestSchema.parse(JSON.parse(await readFile(join(raw, 'manifest.json'), 'utf8')));
  if (!manifest) throw new Error('empty archive manifest');
  for (const layer of manifest.Layers) {
    // whiteouts first: a `.wh.NAME` entry deletes NAME of the layers below
    const entries = (await sh('tar', ['-tf', join(raw, layer)])).split('\n');
    for (const entry of entries.filter((e) => posix.basename(e).startsWith('.wh.'))) {
      const base = posix.basename(entry);
      const target = base === '.wh..wh..opq' ? dirname(entry) : join(dirname(entry), base.slice('.wh.'.length));
      await rm(join(rootfs, target), { recursive: true, force: true });
    }
    await sh('tar', ['-xf', join(raw, layer), '-C', rootfs, '--exclude=.wh.*', '--same-owner']);
  }
  const config = imageConfigSchema.parse(JSON.parse(await readFile(join(raw, manifest.Config), 'utf8'))).config;
  await rm(raw, { recursive: true, force: true });
  return { config, rootfs };
}

/**
 * The packages installed in a node_modules directory (`name` or `@scope/name` with a package.json): npm 10 leaves
 * empty scope directories behind for the optional packages it skipped, which hold no package.
 */
export async function installedPackages(nodeModules: string): Promise<string[]> {
  const names: string[] = [];
  for (const entry of await readdir(nodeModules)) {
    if (entry.startsWith('.')) continue;
    const candidates = entry.startsWith('@')
      ? (await readdir(join(nodeModules, entry))).map((n) => `${entry}/${n}`)
      : [entry];
    for (const name of candidates) if (existsSync(join(nodeModules, name, 'package.json'))) names.push(name);
  }
  return names.sort();
}

/** A process started with `runImage`; `pid` is the image's entrypoint (PID 1 of its own PID namespace). */
export interface ImageProcess {
  child: ChildProcess;
  /** Host PID of the entrypoint (tini), once known. */
  entrypointPid(): Promise<number>;
  exited: Promise<number | null>;
  output(): string;
}

/**
 * Runs the image's ENTRYPOINT + CMD (+ `args`) in its unpacked root filesystem, in new mount and PID namespaces,
 * in its WORKDIR, as its USER, with only `env` and the image's own Env. The host network is shared.
 */
export function runImage(
  image: { config: ImageConfig; rootfs: string },
  args: string[],
  env: Record<string, string>,
): ImageProcess {
  const { config, rootfs } = image;
  const [uid, gid] = (config.User ?? '0:0').split(':');
  const command = [...(config.Entrypoint ?? []), ...(config.Cmd ?? []), ...args];
  const imageEnv = Object.fromEntries(
    (config.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
  );
  const child = spawn(
    'unshare',
    [
      '--mount',
      '--pid',
      '--fork',
      '--kill-child',
      `--root=${rootfs}`,
      `--wd=${config.WorkingDir || '/'}`,
      '--mount-proc=/proc', // inside the new root, in the new mount namespace: gone with it
      `--setuid=${uid}`,
      `--setgid=${gid ?? uid}`,
      '--',
      ...command,
    ],
    { env: { ...imageEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    output: () => out,
    async entrypointPid() {
      for (let i = 0; i < 100; i++) {
        const children = await readFile(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').catch(() => '');
        const pid = Number(children.trim().split(/\s+/)[0]);
        if (pid) return pid;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no entrypoint under unshare (${out})`);
    },
  };
}

/** Checks every built image shares: the runtime config of the Dockerfile, nothing of the build baked in. */
export function expectRuntimeConfig(config: ImageConfig, rootfs: string, component: string): void {
  expect(config.User).toBe('65532:65532');
  expect(config.Entrypoint).toEqual(['/usr/bin/tini', '--', '/nodejs/bin/node', '--enable-source-maps']);
  expect(config.Cmd).toEqual([`dist/${component}/src/main.js`]);
  expect(config.WorkingDir).toBe('/app');
  expect(config.Healthcheck).toBeUndefined();
  expect(config.Env).toContain('NODE_ENV=production');
  expect(config.Env?.join(' ')).not.toMatch(/NODE_EXTRA_CA_CERTS|npm_config|SSL_CERT/i);
  for (const buildOnly of ['etc/ssl/certs/ca-certificates.crt', 'root/.npm', 'root/.npmrc', 'app/.npmrc', 'bin/sh'])
    expect(existsSync(join(rootfs, buildOnly)), buildOnly).toBe(false);
  expect(existsSync(join(rootfs, 'usr/bin/tini'))).toBe(true);
  expect(existsSync(join(rootfs, 'nodejs/bin/node'))).toBe(true);
}
