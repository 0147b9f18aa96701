/**
 * Rotated credentials reach the next request: client certificates and CAs named by file in a kubeconfig, and the
 * in-cluster service account's token and CA as the kubelet rewrites them. Against a local HTTPS "apiserver" that
 * requires a client certificate (or a token) and answers with the identity it saw.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { kubeconfigText } from '../../../test/support/kubeconfig.js';
import { waitFor } from '../../../test/support/wait.js';
import { type CertificateAuthority, createCa, issue, type KeyPair } from '../../../test/support/x509.js';
import { createKubeClient } from './client.js';
import { loadConnection } from './kubeconfig.js';

interface Seen {
  cn: string;
  token: string;
}

/** The apiserver stand-in: serving certificate from `serving`, client certificates of any of `clientCas`. */
async function apiserver(serving: KeyPair, clientCas: CertificateAuthority[], requireCert: boolean) {
  const sockets: Socket[] = [];
  const server = https.createServer(
    {
      cert: serving.certPem,
      key: serving.keyPem,
      ca: clientCas.map((c) => c.certPem),
      requestCert: requireCert,
      rejectUnauthorized: requireCert,
    },
    (req, res) => {
      const seen: Seen = {
        cn: String((req.socket as TLSSocket).getPeerCertificate().subject?.CN ?? ''),
        token: (req.headers.authorization ?? '').replace(/^Bearer /, ''),
      };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(seen));
    },
  );
  server.on('secureConnection', (s) => sockets.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup.push(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  return {
    port: (server.address() as AddressInfo).port,
    sockets,
    /** Serves a new certificate from now on (new connections only), as a renewed apiserver does. */
    renew(next: KeyPair, cas: CertificateAuthority[]) {
      server.setSecureContext({ cert: next.certPem, key: next.keyPem, ca: cas.map((c) => c.certPem) });
      server.closeAllConnections(); // so no connection made with the old certificate is reused
    },
  };
}

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-rotation-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * The error of `call`, past the reset a request may meet first on a connection the server just closed (the
 * client learns that only by using it).
 */
async function failure(call: () => Promise<unknown>): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      await call();
      return 'no error';
    } catch (err) {
      if (attempt < 3 && /socket hang up|ECONNRESET/.test(String(err))) continue;
      return String(err);
    }
  }
}

const whoami = (client: ReturnType<typeof createKubeClient>) => client.request<Seen>('GET', '/whoami');

describe('rotated credentials', () => {
  it('a client certificate rewritten in its files is presented by the next request; old connections close', async () => {
    const ca = createCa('cluster-ca');
    const server = await apiserver(issue(ca, { cn: 'apiserver' }, ['127.0.0.1']), [ca], true);
    const dir = await tempDir();
    const files = { ca: join(dir, 'ca.crt'), cert: join(dir, 'client.crt'), key: join(dir, 'client.key') };
    const write = async (pair: KeyPair, which: ('cert' | 'key')[] = ['cert', 'key']) => {
      if (which.includes('cert')) await writeFile(files.cert, pair.certPem);
      if (which.includes('key')) await writeFile(files.key, pair.keyPem);
    };
    await writeFile(files.ca, ca.certPem);
    await write(issue(ca, { cn: 'operator-1' }));
    await writeFile(
      join(dir, 'kubeconfig'),
      kubeconfigText(
        { server: `https://127.0.0.1:${server.port}`, 'certificate-authority': files.ca },
        { 'client-certificate': files.cert, 'client-key': files.key },
      ),
    );
    const client = createKubeClient(await loadConnection({ kubeconfig: join(dir, 'kubeconfig') }));
    expect((await whoami(client)).cn).toBe('operator-1');
    expect((await whoami(client)).cn).toBe('operator-1');
    expect(server.sockets).toHaveLength(1); // one keep-alive connection so far

    const next = issue(ca, { cn: 'operator-2' });
    await write(next, ['cert']); // half way through the rotation: the old key does not match the new certificate
    expect((await whoami(client)).cn).toBe('operator-1');
    await write(next, ['key']);
    expect((await whoami(client)).cn).toBe('operator-2');
    expect(server.sockets).toHaveLength(2);
    await waitFor(() => server.sockets[0]?.destroyed === true, 5000, 'the old connection to close');
  });

  it('a CA rewritten in its file is trusted by the next request (the apiserver renewed by a new CA)', async () => {
    const oldCa = createCa('old-ca');
    const newCa = createCa('new-ca');
    const server = await apiserver(issue(oldCa, { cn: 'apiserver' }, ['127.0.0.1']), [oldCa], false);
    const dir = await tempDir();
    await writeFile(join(dir, 'ca.crt'), oldCa.certPem);
    await writeFile(
      join(dir, 'kubeconfig'),
      kubeconfigText({ server: `https://127.0.0.1:${server.port}`, 'certificate-authority': 'ca.crt' }, { token: 't' }),
    );
    const client = createKubeClient(await loadConnection({ kubeconfig: join(dir, 'kubeconfig') }));
    expect((await whoami(client)).token).toBe('t');
    server.renew(issue(newCa, { cn: 'apiserver' }, ['127.0.0.1']), [newCa]);
    expect(await failure(() => whoami(client))).toMatch(/certificate/); // the old CA does not vouch for it
    await writeFile(join(dir, 'ca.crt'), `${oldCa.certPem}${newCa.certPem}`); // the bundle during a CA rotation
    expect((await whoami(client)).token).toBe('t');
  });

  it('in cluster: the service-account token and CA the kubelet rewrites are used by the next request', async () => {
    const oldCa = createCa('cluster-ca');
    const newCa = createCa('cluster-ca-2');
    const server = await apiserver(issue(oldCa, { cn: 'apiserver' }, ['127.0.0.1']), [oldCa], false);
    const root = await tempDir();
    const sa = join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
    await mkdir(sa, { recursive: true });
    await writeFile(join(sa, 'token'), 'token-1');
    await writeFile(join(sa, 'ca.crt'), oldCa.certPem);
    await writeFile(join(sa, 'namespace'), 'switchyard');
    vi.stubEnv('KUBECONFIG', '');
    vi.stubEnv('KUBERNETES_SERVICE_HOST', '127.0.0.1');
    vi.stubEnv('KUBERNETES_SERVICE_PORT', String(server.port));
    const client = createKubeClient(await loadConnection({ inClusterRoot: root }));
    expect((await whoami(client)).token).toBe('token-1');
    await writeFile(join(sa, 'token'), 'token-2');
    expect((await whoami(client)).token).toBe('token-2');
    server.renew(issue(newCa, { cn: 'apiserver' }, ['127.0.0.1']), [newCa]);
    await writeFile(join(sa, 'ca.crt'), newCa.certPem);
    expect((await whoami(client)).token).toBe('token-2');
  });
});
