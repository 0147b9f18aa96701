/**
 * Set-up steps of the operator e2e tests on a real kube-apiserver (test/control-plane): this machine's address for
 * EndpointSlices, the CRDs, the operator's least-privilege ServiceAccount and the proxy Service it pushes to.
 */
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { endpointSliceYaml, serviceYaml } from '../../operator/src/testing/manifests.js';
import type { ControlPlane } from '../control-plane/index.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** This machine's first non-internal IPv4 address (EndpointSlices must point at it), if it has one. */
export function nonLoopbackIPv4(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
}

/** `kubectl apply` of `yaml`; throws with kubectl's stderr when it fails. */
export async function applyYaml(cp: ControlPlane, yaml: string): Promise<void> {
  const r = await cp.kubectl(['apply', '-f', '-'], { input: yaml });
  if (r.code !== 0) throw new Error(`kubectl apply failed: ${r.stderr}`);
}

/** Applies the Switchyard CRDs (crds/) and waits until the apiserver serves them; throws when either step fails. */
export async function installCrds(cp: ControlPlane): Promise<void> {
  const crds = ['llmbackends', 'llmpools', 'routepolicies'].flatMap((p) => ['-f', join(ROOT, 'crds', `${p}.yaml`)]);
  const applied = await cp.kubectl(['apply', ...crds]);
  if (applied.code !== 0) throw new Error(`applying the CRDs failed: ${applied.stderr}`);
  const established = await cp.kubectl(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']);
  if (established.code !== 0) throw new Error(`the CRDs were not established: ${established.stderr}`);
}

/**
 * Applies operator/config/rbac.yaml (the rules the chart grants) and writes a kubeconfig of the operator's
 * ServiceAccount in `namespace` (which must exist), so the operator runs with only those rules; its path.
 */
export async function operatorServiceAccountKubeconfig(cp: ControlPlane, namespace: string): Promise<string> {
  const rbac = await cp.kubectl(['apply', '-f', join(ROOT, 'operator', 'config', 'rbac.yaml')]);
  if (rbac.code !== 0) throw new Error(`applying operator/config/rbac.yaml failed: ${rbac.stderr}`);
  return cp.writeKubeconfig(await cp.serviceAccountToken(namespace, 'switchyard-operator'), 'operator.kubeconfig');
}

/**
 * The proxy Service `switchyard-proxy` of `namespace` (admin port named `admin`) and one EndpointSlice per proxy at
 * `host`, listed before the proxies are ready (they get ready by push).
 */
export function proxyServiceYaml(
  namespace: string,
  host: string,
  proxies: ReadonlyArray<{ name: string; admin: number }>,
): string {
  return [
    serviceYaml(namespace, 'switchyard-proxy', 9090, 'admin'),
    ...proxies.map((p) =>
      endpointSliceYaml(namespace, 'switchyard-proxy', p.admin, [{ ip: host, pod: p.name, ready: false }], {
        name: p.name,
        portName: 'admin',
      }),
    ),
  ].join('---\n');
}
