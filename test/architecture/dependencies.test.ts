/**
 * The architecture's dependency rules (DESIGN.md §1): shared/ imports neither operator/ nor proxy/; proxy/ imports
 * neither operator/ nor @kubernetes/client-node. Scans every import specifier, static and dynamic.
 */
import { readdir, readFile } from 'node:fs/promises';
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

async function violations(dir: string, forbidden: (spec: string, resolved: string) => boolean) {
  const found: string[] = [];
  for (const file of await sourceFiles(join(ROOT, dir))) {
    const text = await readFile(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3] ?? '';
      const target = spec.startsWith('.') ? relative(ROOT, resolve(file, '..', spec)) : spec;
      if (forbidden(spec, target)) found.push(`${relative(ROOT, file)} imports ${spec}`);
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

  it('detects a violation (the scanner itself works)', async () => {
    const sample =
      "import { x } from '../../operator/src/main.js';\nconst k = await import('@kubernetes/client-node');";
    const specs = [...sample.matchAll(IMPORT)].map((m) => m[1] ?? m[2]);
    expect(specs).toEqual(['../../operator/src/main.js', '@kubernetes/client-node']);
  });
});
