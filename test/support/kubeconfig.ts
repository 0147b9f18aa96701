/** Kubeconfig files for tests that load a connection the way the operator does. */

/**
 * A kubeconfig (JSON, which is valid YAML) whose current context joins one cluster and one user: `cluster` and
 * `user` are the entries' bodies as kubectl writes them (`server`, `certificate-authority`, `client-certificate`,
 * `token`, …); relative file paths are resolved against the kubeconfig's directory.
 */
export function kubeconfigText(cluster: { server: string } & Record<string, unknown>, user: Record<string, unknown>) {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'test', cluster }],
    users: [{ name: 'test', user }],
    contexts: [{ name: 'test', context: { cluster: 'test', user: 'test' } }],
    'current-context': 'test',
  });
}
