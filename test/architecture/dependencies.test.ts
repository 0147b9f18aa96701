/**
 * The architecture's dependency rules (DESIGN.md §1): shared/ imports neither operator/ nor proxy/; proxy/ imports
 * neither operator/ nor @kubernetes/client-node. Scans every import specifier, static and dynamic.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sourceFiles(p)));
    else if (/\.(ts|mts|js|mjs)$/.test(entry.name)) out.push(p);
  }
  return out;
}

const IMPORT =
  /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g;

async function violations(dir: string, forbidden: (spec: string, resolved: string) => boolean, root = ROOT) {
  const found: string[] = [];
  for (const file of await sourceFiles(join(root, dir))) {
    const text = await readFile(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3] ?? '';
      const target = spec.startsWith('.') ? relative(root, resolve(file, '..', spec)) : spec;
      if (forbidden(spec, target)) found.push(`${relative(root, file)} imports ${spec}`);
    }
  }
  return found;
}

describe('dependency rules', () => {
  it('shared/ imports neither operator/, proxy/ nor the Kubernetes client', async () => {
    const v = await violations(
      'shared',
      (spec, target) =>
        target.startsWith('operator/') || target.startsWith('proxy/') || spec.startsWith('@kubernetes/'),
    );
    expect(v).toEqual([]);
  });

  it('proxy/ imports neither operator/ nor @kubernetes/client-node', async () => {
    const v = await violations(
      'proxy',
      (spec, target) => target.startsWith('operator/') || spec.startsWith('@kubernetes/'),
    );
    expect(v).toEqual([]);
  });

  it('detects violations in a sample tree (the scanner itself works)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'switchyard-deps-'));
    try {
      await mkdir(join(root, 'proxy/src/deep'), { recursive: true });
      await writeFile(
        join(root, 'proxy/src/deep/bad.ts'),
        [
          "import type { Reconciler } from '../../../operator/src/reconcile.js';",
          "export { KubeConfig } from '@kubernetes/client-node';",
          "const lazy = await import('../../../operator/src/main.js');",
          "import { ok } from '../fine.js';",
        ].join('\n'),
      );
      await writeFile(join(root, 'proxy/src/fine.ts'), "import { z } from 'zod';\nexport const ok = z;\n");
      const v = await violations(
        'proxy',
        (spec, target) => target.startsWith('operator/') || spec.startsWith('@kubernetes/'),
        root,
      );
      expect(v).toEqual([
        'proxy/src/deep/bad.ts imports ../../../operator/src/reconcile.js',
        'proxy/src/deep/bad.ts imports @kubernetes/client-node',
        'proxy/src/deep/bad.ts imports ../../../operator/src/main.js',
      ]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
