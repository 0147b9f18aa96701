/**
 * The operator's apiserver client against a real kube-apiserver that authenticates client certificates: a
 * certificate rewritten in the files a kubeconfig names is the identity of the next request (the apiserver's
 * answer names the user it saw).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, createKubeClient } from '../../operator/src/k8s/client.js';
import { loadConnection } from '../../operator/src/k8s/kubeconfig.js';
import { type ControlPlane, startControlPlane } from '../control-plane/index.js';
import { kubeconfigText } from '../support/kubeconfig.js';
import { createCa, issue, type KeyPair } from '../support/x509.js';

let cp: ControlPlane;
let dir: string;
const ca = createCa('switchyard-test-client-ca');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-credentials-'));
  await writeFile(join(dir, 'client-ca.crt'), ca.certPem);
  cp = await startControlPlane({ extraApiServerArgs: [`--client-ca-file=${join(dir, 'client-ca.crt')}`] });
}, 180_000);

afterAll(async () => {
  await cp?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('client certificates against a real apiserver', () => {
  it('a certificate rewritten in its files is the identity of the next request', async () => {
    const certFile = join(dir, 'client.crt');
    const keyFile = join(dir, 'client.key');
    const use = async (pair: KeyPair) => {
      await writeFile(certFile, pair.certPem);
      await writeFile(keyFile, pair.keyPem);
    };
    await use(issue(ca, { cn: 'operator-admin', o: 'system:masters' }));
    await writeFile(
      join(dir, 'kubeconfig'),
      kubeconfigText(
        { server: cp.server, 'certificate-authority-data': Buffer.from(cp.caPem).toString('base64') },
        { 'client-certificate': certFile, 'client-key': keyFile },
      ),
    );
    const client = createKubeClient(await loadConnection({ kubeconfig: join(dir, 'kubeconfig') }));
    const namespace = () => client.request<{ metadata: { name: string } }>('GET', '/api/v1/namespaces/default');
    expect((await namespace()).metadata.name).toBe('default');

    // a certificate for another user, without the group: the apiserver names that user and refuses
    await use(issue(ca, { cn: 'operator-unprivileged' }));
    const refused = await namespace().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ status: 403, message: expect.stringContaining('User "operator-unprivileged"') });

    await use(issue(ca, { cn: 'operator-admin-2', o: 'system:masters' }));
    expect((await namespace()).metadata.name).toBe('default');
  }, 60_000);
});
