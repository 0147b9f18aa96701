/** Runs the chart's `helm test` hook script (rendered from the chart) with this Node against a running proxy. */
import { execFile } from 'node:child_process';
import { find, render } from './helm.js';

interface HookContainer {
  args: string[];
  env: { name: string; value: string }[];
}

/** Renders the hook Pod and runs its container args with `ADMIN_URL`/`BASE_URL` pointed at the given proxy. */
export async function runTestHook(adminUrl: string, baseUrl: string): Promise<{ code: number; output: string }> {
  const pod = find(await render(), 'Pod', 'sy-test-proxy');
  const container = (pod.spec as { containers: HookContainer[] }).containers[0] as HookContainer;
  const env = Object.fromEntries(container.env.map((e) => [e.name, e.value]));
  env.ADMIN_URL = adminUrl;
  env.BASE_URL = baseUrl;
  return new Promise((resolve) => {
    execFile(process.execPath, container.args, { env: { ...env, PATH: process.env.PATH } }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, output: stdout + stderr }),
    );
  });
}
