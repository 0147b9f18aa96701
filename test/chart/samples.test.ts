/**
 * The in-cluster examples in crds/samples/ (vLLM pool, vendor pool, tenants policy) translate together into a
 * snapshot without problems, so `kubectl apply` of all three gives Ready resources once their Services exist; and
 * no two samples define the same object or model name, so applying all of them overwrites nothing.
 * (test/e2e/operator-crds.test.ts applies every sample to a real apiserver.)
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { authorize, callerOf } from '../../proxy/src/auth/authorize.js';
import { compileRuntime } from '../../proxy/src/config/runtime.js';
import { parseManifests, type ServiceResolver, translate } from '../../shared/src/index.js';
import { ROOT } from './helm.js';

const SAMPLES = ['vllm-pool.yaml', 'vendor-pool.yaml', 'route-policy.yaml'];

describe('crds/samples in-cluster examples', () => {
  it('translate together without problems', async () => {
    const texts = await Promise.all(SAMPLES.map((f) => readFile(join(ROOT, 'crds', 'samples', f), 'utf8')));
    const twoReplicas: ServiceResolver = (_ns, backend) =>
      [1, 2].map((i) => ({ name: `${backend.metadata.name}-${i}`, address: `10.0.0.${i}:8000` }));
    const { config, problems } = translate({ ...parseManifests(texts.join('\n---\n')), resolveService: twoReplicas });
    expect(problems).toEqual([]);
    expect(config.pools.map((p) => p.model).sort()).toEqual(['chat-large', 'chat-small', 'llama-3.1-70b']);
    expect(config.routes.map((r) => r.name)).toEqual(['llama', 'support-assistant']);
  });

  it('protect every pool: an anonymous caller reaches none, a tenant what its allow-list names, by any name', async () => {
    const texts = await Promise.all(SAMPLES.map((f) => readFile(join(ROOT, 'crds', 'samples', f), 'utf8')));
    const manifests = parseManifests(texts.join('\n---\n'));
    const { config } = translate({ ...manifests, resolveService: () => [{ name: 'r', address: '10.0.0.1:8000' }] });
    const runtime = compileRuntime(config);
    const keyOf = (k: string) => manifests.secrets.find((x) => x.metadata.name === 'tenant-keys')?.stringData?.[k];
    const may = (model: string, key?: string) => {
      const header = (n: string) => (n === 'authorization' && key ? `Bearer ${key}` : undefined);
      try {
        authorize(runtime, callerOf(runtime, header), model, header, undefined, 'first');
        return true;
      } catch {
        return false;
      }
    };
    const names = [...runtime.models.keys()];
    expect(names.filter((m) => may(m))).toEqual([]);
    expect(names.filter((m) => may(m, keyOf('search-team'))).sort()).toEqual([
      'chat-large',
      'chat-small',
      'llama-3.1-70b',
      'llama-70b',
    ]);
    expect(names.filter((m) => may(m, keyOf('support-bot')))).toEqual(['chat-small']);
  });

  it('never define the same object, or claim the same model name, twice', async () => {
    const dir = join(ROOT, 'crds', 'samples');
    const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml'));
    const seen = new Map<string, string>();
    const clashes: string[] = [];
    for (const f of files) {
      const m = parseManifests(await readFile(join(dir, f), 'utf8'), f);
      const objects = [...m.backends, ...m.pools, ...m.policies, ...m.secrets].map(
        (o) => `${o.kind} ${o.metadata.namespace ?? 'default'}/${o.metadata.name}`,
      );
      const models = m.pools.flatMap((p) => [p.spec.model, ...(p.spec.aliases ?? [])]).map((n) => `model ${n}`);
      for (const key of [...objects, ...models]) {
        if (seen.has(key)) clashes.push(`${key} in ${seen.get(key)} and ${f}`);
        seen.set(key, f);
      }
    }
    expect(files.length).toBeGreaterThanOrEqual(5);
    expect(clashes).toEqual([]);
  });
});
