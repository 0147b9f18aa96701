import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait.js';
import { type ControlPlane, startControlPlane } from './index.js';

// The first run builds the binaries (many minutes); afterwards startup takes seconds.
const FIRST_BUILD_TIMEOUT = 60 * 60_000;

const CRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.test.switchyard.dev
spec:
  group: test.switchyard.dev
  scope: Namespaced
  names: { plural: widgets, singular: widget, kind: Widget }
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: { type: integer, minimum: 1 }
`;

describe('test control plane (etcd + kube-apiserver)', () => {
  let cp: ControlPlane;

  beforeAll(async () => {
    cp = await startControlPlane();
  }, FIRST_BUILD_TIMEOUT);

  afterAll(async () => {
    await cp?.stop();
  });

  it('serves the API over TLS with a working kubeconfig', async () => {
    expect(cp.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const kubeconfig = await readFile(cp.kubeconfigPath, 'utf8');
    expect(kubeconfig).toContain(cp.server);
    const res = await cp.kubectl(['version', '-o', 'json']);
    expect(res.code, res.stderr).toBe(0);
    const version = JSON.parse(res.stdout) as { serverVersion?: { gitVersion?: string } };
    expect(version.serverVersion?.gitVersion).toMatch(/^v1\.\d+\.\d+/);
  });

  it('creates and lists namespaces', async () => {
    const created = await cp.kubectl(['create', 'namespace', 'x']);
    expect(created.code, created.stderr).toBe(0);
    const list = await cp.kubectl(['get', 'ns', '-o', 'name']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout.split('\n')).toEqual(expect.arrayContaining(['namespace/x', 'namespace/default']));
  });

  it('applies a CRD and serves its custom resources with schema validation', async () => {
    const applied = await cp.kubectl(['apply', '-f', '-'], { input: CRD });
    expect(applied.code, applied.stderr).toBe(0);
    const established = await cp.kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=30s',
      'crd/widgets.test.switchyard.dev',
    ]);
    expect(established.code, established.stderr).toBe(0);

    const widget = (size: number): string =>
      JSON.stringify({
        apiVersion: 'test.switchyard.dev/v1',
        kind: 'Widget',
        metadata: { name: `w${size}`, namespace: 'x' },
        spec: { size },
      });
    const good = await cp.kubectl(['apply', '-f', '-'], { input: widget(3) });
    expect(good.code, good.stderr).toBe(0);
    const bad = await cp.kubectl(['apply', '-f', '-'], { input: widget(0) });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/spec\.size/);
    const got = await cp.kubectl(['get', 'widgets', '-n', 'x', 'w3', '-o', 'jsonpath={.spec.size}']);
    expect(got.stdout).toBe('3');
  });

  it('applies and reads a ConfigMap', async () => {
    const cm = JSON.stringify({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings', namespace: 'x' },
      data: { greeting: 'hello' },
    });
    const applied = await cp.kubectl(['apply', '-f', '-'], { input: cm });
    expect(applied.code, applied.stderr).toBe(0);
    const got = await cp.kubectl(['get', 'configmap', 'settings', '-n', 'x', '-o', 'jsonpath={.data.greeting}']);
    expect(got.stdout).toBe('hello');
  });

  it('enforces RBAC for a ServiceAccount token from the TokenRequest API', async () => {
    const token = await cp.serviceAccountToken('x', 'reader');
    expect(token.split('.')).toHaveLength(3); // a JWT

    const whoami = await cp.kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], { token });
    expect(whoami.stdout).toBe('system:serviceaccount:x:reader');

    const denied = await cp.kubectl(['get', 'configmaps', '-n', 'x'], { token });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/forbidden/i);

    // A Role of our own: the built-in view/edit/admin ClusterRoles are aggregated by kube-controller-manager,
    // which does not run here, so they grant nothing.
    const role = await cp.kubectl([
      'create',
      'role',
      'cm-reader',
      '--verb=get,list',
      '--resource=configmaps',
      '-n',
      'x',
    ]);
    expect(role.code, role.stderr).toBe(0);
    const grant = await cp.kubectl([
      'create',
      'rolebinding',
      'cm-reader',
      '--role=cm-reader',
      '--serviceaccount=x:reader',
      '-n',
      'x',
    ]);
    expect(grant.code, grant.stderr).toBe(0);
    // The RBAC authorizer reads bindings through an informer: a new binding takes effect a moment later.
    let allowed = { code: -1, stdout: '', stderr: '' };
    await waitFor(
      async () => {
        allowed = await cp.kubectl(['get', 'configmaps', '-n', 'x', '-o', 'name'], { token });
        return allowed.code === 0;
      },
      10_000,
      'the RoleBinding to take effect',
      200,
    );
    expect(allowed.stdout).toContain('configmap/settings');
    // still nothing outside its namespace, and no writes
    const otherNs = await cp.kubectl(['get', 'configmaps', '-n', 'default'], { token });
    expect(otherNs.stderr).toMatch(/forbidden/i);
    const write = await cp.kubectl(['delete', 'configmap', 'settings', '-n', 'x'], { token });
    expect(write.stderr).toMatch(/forbidden/i);
  });

  it('accepts Pods even though no controller creates default ServiceAccounts', async () => {
    const pod = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'x' },
      spec: { containers: [{ name: 'c', image: 'example.invalid/none:1' }] },
    });
    const created = await cp.kubectl(['apply', '-f', '-'], { input: pod });
    expect(created.code, created.stderr).toBe(0);
  });

  it('has a working helm binary', async () => {
    const res = await cp.helm(['list', '-A', '-o', 'json']);
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual([]);
  });
});
