import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConnection } from './kubeconfig.js';

let dir: string;
const caPem = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';

function kubeconfig(users: string, current = 'token'): string {
  return `apiVersion: v1
kind: Config
current-context: ${current}
clusters:
- name: secure
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: ${Buffer.from(caPem).toString('base64')}
- name: insecure
  cluster:
    server: https://127.0.0.1:7443
    insecure-skip-tls-verify: true
contexts:
- name: token
  context: { cluster: secure, user: token }
- name: token-file
  context: { cluster: insecure, user: token-file }
- name: exec
  context: { cluster: secure, user: exec }
users:
${users}
`;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-kubeconfig-'));
  await writeFile(join(dir, 'token'), 'file-token-1\n');
  // An exec credential plugin, as cloud providers ship them (client.authentication.k8s.io/v1).
  await writeFile(
    join(dir, 'plugin.mjs'),
    `process.stdout.write(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential',
      status: { token: 'exec-token-' + process.env.PLUGIN_SUFFIX, expirationTimestamp: new Date(Date.now() + 3600e3).toISOString() } }));`,
  );
  await writeFile(
    join(dir, 'config'),
    kubeconfig(`- name: token
  user: { token: static-token }
- name: token-file
  user: { tokenFile: ${join(dir, 'token')} }
- name: exec
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ${process.execPath}
      args: [${join(dir, 'plugin.mjs')}]
      env: [{ name: PLUGIN_SUFFIX, value: abc }]
      interactiveMode: Never`),
  );
});

describe('loadConnection', () => {
  it('reads the current context: server, CA and a bearer token', async () => {
    const conn = await loadConnection({ kubeconfig: join(dir, 'config') });
    expect(conn.server).toBe('https://127.0.0.1:6443');
    const { headers, tls } = await conn.credentials();
    expect(tls.ca?.toString()).toBe(caPem);
    expect(tls.rejectUnauthorized).toBeUndefined();
    expect(headers).toEqual({ authorization: 'Bearer static-token' });
  });

  it('selects another context; insecure-skip-tls-verify; a token file is read from disk on every request', async () => {
    const conn = await loadConnection({ kubeconfig: join(dir, 'config'), context: 'token-file' });
    expect(conn.server).toBe('https://127.0.0.1:7443');
    expect((await conn.credentials()).tls.rejectUnauthorized).toBe(false);
    expect((await conn.credentials()).headers).toEqual({ authorization: 'Bearer file-token-1' });
    await writeFile(join(dir, 'token'), 'file-token-2\n');
    expect((await conn.credentials()).headers).toEqual({ authorization: 'Bearer file-token-2' });
  });

  it('merges the files of $KUBECONFIG; the first current-context wins', async () => {
    await writeFile(
      join(dir, 'extra'),
      `apiVersion: v1
kind: Config
current-context: other
clusters: [{ name: other, cluster: { server: 'https://127.0.0.1:8001' } }]
contexts: [{ name: other, context: { cluster: other, user: other } }]
users: [{ name: other, user: { token: other-token } }]
`,
    );
    const saved = process.env.KUBECONFIG;
    process.env.KUBECONFIG = `${join(dir, 'config')}:${join(dir, 'extra')}`;
    try {
      expect((await loadConnection()).server).toBe('https://127.0.0.1:6443');
      const other = await loadConnection({ context: 'other' });
      expect(other.server).toBe('https://127.0.0.1:8001');
      expect((await other.credentials()).headers).toEqual({ authorization: 'Bearer other-token' });
    } finally {
      if (saved === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved;
    }
  });

  it('runs exec credential plugins', async () => {
    const conn = await loadConnection({ kubeconfig: join(dir, 'config'), context: 'exec' });
    expect((await conn.credentials()).headers).toEqual({ authorization: 'Bearer exec-token-abc' });
  });

  it('names a missing context or file', async () => {
    await expect(loadConnection({ kubeconfig: join(dir, 'config'), context: 'nope' })).rejects.toThrow(
      /context nope not found/,
    );
    await expect(loadConnection({ kubeconfig: join(dir, 'missing') })).rejects.toThrow(/missing/);
  });
});
