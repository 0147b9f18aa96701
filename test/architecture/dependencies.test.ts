/**
 * The architecture's dependency rules (README, "Repository layout"): shared/ imports neither operator/ nor proxy/;
 * proxy/ imports neither operator/ nor @kubernetes/client-node; no import cycle between the folders of the operator
 * nor of the proxy; no module-level state in the proxy; the build compiles no test-only module. Scans every import
 * specifier, static and dynamic, type-only included (imports.ts), and checks the scanner on sample trees.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compiledFiles, folderCycles, moduleState, reachable, violations } from './imports.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** Writes `files` (path → text) below a fresh temp dir, runs `body` on it and removes it. */
async function withTree(files: Record<string, string>, body: (root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'switchyard-deps-'));
  try {
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), text);
    }
    await body(root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

describe('dependency rules', () => {
  it('shared/ imports neither operator/, proxy/ nor the Kubernetes client', async () => {
    const v = await violations(
      ROOT,
      'shared',
      (spec, target) =>
        target.startsWith('operator/') || target.startsWith('proxy/') || spec.startsWith('@kubernetes/'),
    );
    expect(v).toEqual([]);
  });

  it('proxy/ imports neither operator/ nor @kubernetes/client-node', async () => {
    const v = await violations(
      ROOT,
      'proxy',
      (spec, target) => target.startsWith('operator/') || spec.startsWith('@kubernetes/'),
    );
    expect(v).toEqual([]);
  });

  it('no import cycle between the folders of operator/src (type-only imports count)', async () => {
    expect(await folderCycles(ROOT, 'operator/src')).toEqual([]);
  });

  it('no import cycle between the folders of proxy/src (type-only imports count)', async () => {
    expect(await folderCycles(ROOT, 'proxy/src')).toEqual([]);
  });

  it('no module-level map of per-call, per-snapshot or per-endpoint state in proxy/src', async () => {
    expect(await moduleState(ROOT, 'proxy/src')).toEqual([]);
  });

  it('the build (tsconfig.build.json) compiles no test-only module: each file is part of a program', async () => {
    const tsconfig = JSON.parse(await readFile(join(ROOT, 'tsconfig.build.json'), 'utf8'));
    const programs = [
      'operator/src/main.ts',
      'proxy/src/main.ts',
      // the generators of the metric tables in the README, run by hand
      'operator/src/metrics-doc.ts',
      'proxy/src/telemetry/metrics-doc.ts',
      ...(await readdir(join(ROOT, 'scripts'))).filter((f) => f.endsWith('.ts')).map((f) => `scripts/${f}`),
    ];
    const used = await reachable(ROOT, programs);
    expect((await compiledFiles(ROOT, tsconfig)).filter((f) => !used.has(f))).toEqual([]);
  });

  it('finds modules of the build that no program uses in a sample tree', async () => {
    await withTree(
      {
        'src/main.ts': "import { a } from './a.js';\nimport type { T } from './types.js';\n",
        'src/a.ts': "export { b } from './deep/b.js';\n",
        'src/deep/b.ts': 'export const b = 1;\n',
        'src/types.ts': 'export type T = number;\n',
        'src/fixture.ts': "import { a } from './a.js';\n", // only tests use it
        'src/a.test.ts': "import { a } from './fixture.js';\n",
        'src/testing/helper.ts': 'export const h = 1;\n',
      },
      async (root) => {
        const used = await reachable(root, ['src/main.ts']);
        const built = await compiledFiles(root, { include: ['src'], exclude: ['**/*.test.ts', '**/testing/**'] });
        expect(built.filter((f) => !used.has(f))).toEqual(['src/fixture.ts']);
      },
    );
  });

  it('detects violations in a sample tree (the scanner itself works)', async () => {
    await withTree(
      {
        'proxy/src/deep/bad.ts': [
          "import type { Reconciler } from '../../../operator/src/reconcile.js';",
          "export { KubeConfig } from '@kubernetes/client-node';",
          "const lazy = await import('../../../operator/src/main.js');",
          "import '../../../operator/src/side-effect.js';",
          "import { ok } from '../fine.js';",
        ].join('\n'),
        'proxy/src/fine.ts': "import { z } from 'zod';\nexport const ok = z;\n",
      },
      async (root) => {
        const v = await violations(
          root,
          'proxy',
          (spec, target) => target.startsWith('operator/') || spec.startsWith('@kubernetes/'),
        );
        expect(v).toEqual([
          'proxy/src/deep/bad.ts imports ../../../operator/src/reconcile.js',
          'proxy/src/deep/bad.ts imports @kubernetes/client-node',
          'proxy/src/deep/bad.ts imports ../../../operator/src/main.js',
          'proxy/src/deep/bad.ts imports ../../../operator/src/side-effect.js',
        ]);
      },
    );
  });

  it('finds module-level state in a sample tree, and passes constant tables and state kept in instances', async () => {
    await withTree(
      {
        'src/calls.ts': [
          "import type { Call } from './call.js';",
          'const byCall = new WeakMap<Call, number>();',
          'export const seen = new Set<string>();',
          'export function track(c: Call, id: string) { byCall.set(c, 1); seen.add(id); }',
        ].join('\n'),
        'src/tables.ts': [
          "const HANDLED = new Set(['a', 'b']);",
          'const NONE: ReadonlySet<string> = new Set();',
          'let registry = new Map<string, number>();',
          'export const has = (k: string) => HANDLED.has(k) || NONE.has(k) || registry.has(k);',
        ].join('\n'),
        'src/store.ts': [
          'export class Store {',
          '  private readonly byKey = new WeakMap<object, number>();',
          '  put(k: object) { this.byKey.set(k, 1); }',
          '}',
          'export function local() { const m = new Map<string, number>(); m.set("a", 1); return m; }',
        ].join('\n'),
        'src/calls.test.ts': 'const fixtures = new WeakMap();\n',
      },
      async (root) => {
        expect(await moduleState(root, 'src')).toEqual([
          'src/calls.ts:2 byCall (WeakMap)',
          'src/calls.ts:3 seen (Set)',
          'src/tables.ts:3 registry (Map)',
        ]);
      },
    );
  });

  it('finds folder cycles in a sample tree, through type imports, and names an import per step', async () => {
    await withTree(
      {
        'src/a/one.ts': "import { b } from '../b/two.js';\nexport const a = b;\n",
        'src/a/inner.ts': "import { a } from './one.js';\nexport const x = a;\n", // inside a folder: no edge
        'src/b/two.ts': "import type { C } from '../c/three.js';\nexport const b = 1 as C;\n",
        'src/c/three.ts': "export type C = number;\nimport '../a/one.js';\n",
        'src/d/four.ts': "import { b } from '../b/two.js';\nexport const d = b;\n", // into the cycle only
        'src/top.ts': "import { e } from './e/five.js';\nexport const t = e;\n",
        'src/e/five.ts': "export const e = 1;\nconst t = () => import('../top.js');\n",
        'src/e/five.test.ts': "import { d } from '../d/four.js';\n", // tests are left out
      },
      async (root) => {
        expect(await folderCycles(root, 'src')).toEqual([
          'a → b (a/one.ts imports ../b/two.js) → c (b/two.ts imports ../c/three.js) → a (c/three.ts imports ../a/one.js)',
          'e → top (e/five.ts imports ../top.js) → e (top.ts imports ./e/five.js)',
        ]);
        await writeFile(join(root, 'src/c/three.ts'), 'export type C = number;\n');
        expect(await folderCycles(root, 'src')).toEqual([
          'e → top (e/five.ts imports ../top.js) → e (top.ts imports ./e/five.js)',
        ]);
      },
    );
  });
});
