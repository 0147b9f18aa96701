/**
 * The real operator process under the chart's ServiceAccount token (RBAC on), with the flags the chart's
 * Deployment passes: the chart's RBAC lets it list and watch everything, write status, and take the Lease.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlane, freePort, startControlPlane } from '../control-plane/index.js';
import { waitFor } from '../support/wait.js';
import { CHART, find, parseObjects, ROOT } from './helm.js';

const NS = 'switchyard';
const IDENTITY = 'operator-under-test';

const resources = `apiVersion: v1
kind: Secret
metadata: { name: vendor, namespace: models }
stringData: { api-key: sk-test }
---
apiVersion: switchyard.dev/v1alpha1
kind: LLMBackend
metadata: { name: vendor, namespace: models }
spec:
  provider: openai
  url: https://api.openai.com/v1
  credentialsRef: { name: vendor, key: api-key }
  models: [{ name: gpt-4o-mini }]
---
apiVersion: switchyard.dev/v1alpha1
kind: LLMPool
metadata: { name: mini, namespace: models }
spec: { model: gpt-4o-mini, backendRefs: [{ name: vendor }] }
`;

describe('operator under the chart RBAC', () => {
  let cp: ControlPlane;
  let dir: string;
  let proc: ChildProcess | undefined;
  let log = '';

  beforeAll(async () => {
    cp = await startControlPlane();
    dir = await mkdtemp(join(tmpdir(), 'switchyard-rbac-'));
    const ok = async (what: string, p: Promise<{ code: number; stderr: string }>) => {
      const r = await p;
      expect(r.code, `${what}: ${r.stderr}`).toBe(0);
    };
    await ok('crds', cp.kubectl(['apply', '--server-side', '-f', `${CHART}/crds`]));
    await ok('established', cp.kubectl(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']));
    for (const ns of [NS, 'models']) await ok(ns, cp.kubectl(['create', 'ns', ns]));
    await ok('install', cp.helm(['install', 'sy', CHART, '-n', NS, '--wait=false']));
    await ok('resources', cp.kubectl(['apply', '-f', '-'], { input: resources }));
  }, 60 * 60_000);

  afterAll(async () => {
    proc?.kill('SIGKILL');
    await cp?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('syncs, takes the Lease, writes status without a Forbidden, and releases the Lease on SIGTERM', async () => {
    const manifest = await cp.helm(['get', 'manifest', 'sy', '-n', NS]);
    const deployment = find(parseObjects(manifest.stdout), 'Deployment', 'sy-operator');
    const container = (deployment.spec as { template: { spec: { containers: { args: string[] }[] } } }).template.spec
      .containers[0];
    const token = await cp.kubectl(['get', 'secret', 'sy-push-token', '-n', NS, '-o=jsonpath={.data.token}']);
    const tokenFile = join(dir, 'push-token');
    await writeFile(tokenFile, Buffer.from(token.stdout, 'base64'));
    const metricsPort = await freePort();
    // the chart's flags, with the in-pod paths and listen address replaced by local ones
    const args = (container?.args ?? [])
      .slice(1)
      .map((a) =>
        a.startsWith('--push-token-file=')
          ? `--push-token-file=${tokenFile}`
          : a.startsWith('--metrics-port=')
            ? `--metrics-port=${metricsPort}`
            : a === '--metrics-host=0.0.0.0'
              ? '--metrics-host=127.0.0.1'
              : a,
      );
    const kubeconfig = await cp.writeKubeconfig(await cp.serviceAccountToken(NS, 'sy-operator'));
    proc = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'operator/src/main.ts'),
        ...args,
        `--kubeconfig=${kubeconfig}`,
        `--identity=${IDENTITY}`,
      ],
      { cwd: ROOT, env: { ...process.env, POD_NAMESPACE: NS }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise<number | null>((r) => proc?.once('exit', (code) => r(code)));
    proc.stdout?.on('data', (d: Buffer) => {
      log += d.toString();
    });
    proc.stderr?.on('data', (d: Buffer) => {
      log += d.toString();
    });

    const ready = async () =>
      (await fetch(`http://127.0.0.1:${metricsPort}/readyz`).catch(() => undefined))?.status === 200;
    await waitFor(ready, 60_000, `operator /readyz (every informer listed; log: ${log.slice(-2000)})`);
    const holder = async () =>
      (await cp.kubectl(['get', 'lease', 'sy-operator', '-n', NS, '-o=jsonpath={.spec.holderIdentity}'])).stdout;
    await waitFor(async () => (await holder()) === IDENTITY, 60_000, 'the Lease');
    const conditions = async () =>
      (await cp.kubectl(['get', 'llmpool', 'mini', '-n', 'models', '-o=jsonpath={.status.conditions[*].type}'])).stdout;
    await waitFor(async () => (await conditions()).includes('Ready'), 60_000, 'LLMPool status conditions');
    expect(log).not.toMatch(/forbidden|\b403\b/i);

    proc.kill('SIGTERM');
    expect(await exited, log.slice(-2000)).toBe(0);
    proc = undefined;
    expect(await holder()).toBe('');
  }, 180_000);
});
