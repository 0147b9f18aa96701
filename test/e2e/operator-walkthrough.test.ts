/**
 * docs/operator.md's out-of-cluster walkthrough works as written: its bash block (steps 1-7, up to the clean-up)
 * runs unchanged against a real kube-apiserver, with this machine's address and free ports passed through the
 * variables the block reads, and ends with a pool that is Ready and a chat completion through the proxy. The clean
 * up is the test's own: the apiserver here has no namespace controller, so deleting a namespace never finishes.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../operator/src/testing/processes.js';
import { type ControlPlane, startControlPlane } from '../control-plane/index.js';
import { nonLoopbackIPv4 } from '../support/operator-setup.js';

const ROOT = join(import.meta.dirname, '..', '..');
const HOST = nonLoopbackIPv4();

/** The walkthrough's bash block, without its clean-up step. */
async function walkthrough(): Promise<string> {
  const doc = await readFile(join(ROOT, 'docs', 'operator.md'), 'utf8');
  const block = /```bash\n(# walkthrough: out of cluster\n[\s\S]*?)```/.exec(doc)?.[1];
  if (!block) throw new Error('docs/operator.md has no "# walkthrough: out of cluster" block');
  const cut = block.indexOf('# 8. clean up');
  if (cut < 0) throw new Error('the walkthrough has no clean-up step');
  return block.slice(0, cut);
}

let cp: ControlPlane;
let pgid: number | undefined;

beforeAll(async () => {
  cp = await startControlPlane();
});

afterAll(async () => {
  if (pgid) {
    try {
      process.kill(-pgid, 'SIGKILL'); // the block's background processes: simulator, proxy, operator
    } catch {
      // already gone
    }
  }
  await cp?.stop();
});

describe('docs/operator.md walkthrough', () => {
  it('runs as written: the pool becomes Ready and a request is answered through the proxy', async () => {
    if (!HOST) throw new Error('no non-loopback IPv4 address: EndpointSlices cannot point at this machine');
    const script = await walkthrough();
    const work = await mkdtemp(join(tmpdir(), 'switchyard-walkthrough-'));
    const [port, adminPort, simPort, metricsPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...cp.env,
        IP: HOST,
        PORT: String(port),
        ADMIN_PORT: String(adminPort),
        SIM_PORT: String(simPort),
        METRICS_PORT: String(metricsPort),
        TMPDIR: work,
      },
    });
    pgid = child.pid;
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    const logs = async () =>
      (
        await Promise.all(
          ['operator', 'proxy', 'sim'].map((f) => readFile(join(work, `${f}.log`), 'utf8').catch(() => '')),
        )
      )
        .map((l) => l.split('\n').slice(-15).join('\n'))
        .join('\n---\n');
    expect(code, `stderr:\n${err}\nstdout:\n${out}\nlogs:\n${await logs()}`).toBe(0);
    expect(out).toMatch(/llmpool\.switchyard\.dev\/chat\s+chat\s+True\s+1\/1\s+1\/1/);
    const answer = JSON.parse(out.slice(out.lastIndexOf('\n{') + 1)) as { object?: string; model?: string };
    expect(answer).toMatchObject({ object: 'chat.completion', model: 'chat' });
  }, 300_000);
});
