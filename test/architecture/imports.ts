/**
 * The import graph of the source tree, read as text: every import specifier (static, dynamic, type-only,
 * re-exports, side-effect imports, require), the files that break a dependency rule, and the import cycles between
 * the top-level folders of a source directory. Used by the architecture tests, which also run it on sample trees.
 */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** Every .ts/.mts/.js/.mjs file below `dir`, sorted. */
export async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sourceFiles(p)));
    else if (/\.(ts|mts|js|mjs)$/.test(entry.name)) out.push(p);
  }
  return out.sort();
}

const IMPORT =
  /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

/** The module specifiers a source text imports, in order. */
export function importSpecifiers(text: string): string[] {
  return [...text.matchAll(IMPORT)].map((m) => m[1] ?? m[2] ?? m[3] ?? m[4] ?? '');
}

/**
 * Imports below `dir` (relative to `root`) that `forbidden` refuses, as `file imports spec`. `target` is the
 * imported path relative to `root` for a relative specifier, else the specifier itself.
 */
export async function violations(
  root: string,
  dir: string,
  forbidden: (spec: string, target: string) => boolean,
): Promise<string[]> {
  const found: string[] = [];
  for (const file of await sourceFiles(join(root, dir))) {
    for (const spec of importSpecifiers(await readFile(file, 'utf8'))) {
      const target = spec.startsWith('.') ? relative(root, resolve(file, '..', spec)) : spec;
      if (forbidden(spec, target)) found.push(`${relative(root, file)} imports ${spec}`);
    }
  }
  return found;
}

/** Options of folderCycles. */
export interface FolderCycleOptions {
  /** Files left out of the graph (default: tests, `*.test.ts`). */
  exclude?: (path: string) => boolean;
}

/**
 * Import cycles between the top-level entries of `dir` (relative to `root`): each folder is one node, each file
 * directly in `dir` is its own node (named without its extension). An edge A → B exists when a file of A imports a
 * file of B, type-only imports included. Returns one line per strongly connected group of two or more nodes, a cycle
 * through it with one import as evidence per step:
 * `controllers → push (controllers/controller.ts imports ../push/pusher.js) → controllers (push/targets.ts imports …)`.
 */
export async function folderCycles(root: string, dir: string, opts: FolderCycleOptions = {}): Promise<string[]> {
  const base = join(root, dir);
  const exclude = opts.exclude ?? ((p: string) => /\.test\.[mc]?[jt]s$/.test(p));
  const nodeOf = (file: string): string | undefined => {
    const rel = relative(base, file);
    if (rel.startsWith('..')) return undefined;
    const [first = '', ...rest] = rel.split(sep);
    return rest.length > 0 ? first : first.replace(/\.[mc]?[jt]s$/, '');
  };
  /** edges.get(a).get(b): the first import seen from a to b. */
  const edges = new Map<string, Map<string, string>>();
  for (const file of await sourceFiles(base)) {
    const rel = relative(base, file);
    if (exclude(rel)) continue;
    const from = nodeOf(file) as string;
    for (const spec of importSpecifiers(await readFile(file, 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const to = nodeOf(resolve(dirname(file), spec));
      if (to === undefined || to === from) continue;
      const out = edges.get(from) ?? new Map<string, string>();
      if (!out.has(to)) out.set(to, `${rel.split(sep).join('/')} imports ${spec}`);
      edges.set(from, out);
    }
  }
  return stronglyConnected(edges)
    .filter((group) => group.length > 1)
    .map((group) => describeCycle(group, edges));
}

/** Tarjan's strongly connected components; each group sorted, groups ordered by their first node. */
function stronglyConnected(edges: Map<string, Map<string, string>>): string[][] {
  const nodes = new Set<string>([...edges.keys(), ...[...edges.values()].flatMap((m) => [...m.keys()])]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) !== index.get(v)) return;
    const group: string[] = [];
    for (let w = stack.pop(); w !== undefined; w = stack.pop()) {
      onStack.delete(w);
      group.push(w);
      if (w === v) break;
    }
    groups.push(group.sort());
  };
  for (const v of [...nodes].sort()) if (!index.has(v)) visit(v);
  return groups.sort((a, b) => ((a[0] ?? '') < (b[0] ?? '') ? -1 : 1));
}

/** A shortest cycle through the group's first node, staying inside the group, with the import of each step. */
function describeCycle(group: string[], edges: Map<string, Map<string, string>>): string {
  const inGroup = new Set(group);
  const start = group[0] as string;
  const previous = new Map<string, string>();
  const queue = [start];
  let last: string | undefined;
  while (queue.length > 0 && last === undefined) {
    const v = queue.shift() as string;
    for (const w of [...(edges.get(v)?.keys() ?? [])].sort()) {
      if (!inGroup.has(w)) continue;
      if (w === start) {
        last = v;
        break;
      }
      if (previous.has(w)) continue;
      previous.set(w, v);
      queue.push(w);
    }
  }
  const path = [start];
  for (let v = last as string; v !== start; v = previous.get(v) as string) path.splice(1, 0, v);
  path.push(start);
  return path.map((v, i) => (i === 0 ? v : `${v} (${edges.get(path[i - 1] as string)?.get(v)})`)).join(' → ');
}

/** Every file below `root` that `entries` (paths relative to `root`) import, directly or not, themselves included. */
export async function reachable(root: string, entries: string[]): Promise<Set<string>> {
  const seen = new Set<string>();
  const visit = async (file: string): Promise<void> => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = await readFile(join(root, file), 'utf8').catch(() => '');
    for (const spec of importSpecifiers(text)) {
      if (!spec.startsWith('.')) continue;
      const target = relative(root, resolve(root, dirname(file), spec)).replace(/\.js$/, '.ts');
      await visit(target.split(sep).join('/'));
    }
  };
  for (const e of entries) await visit(e);
  return seen;
}

/** A tsconfig glob (`**` any folders, `*` any part of a name) as a test on a path relative to the tsconfig. */
export function globMatcher(glob: string): (path: string) => boolean {
  const parts = glob.split('/');
  const pattern = parts
    .map((part, i) => {
      const last = i === parts.length - 1;
      if (part === '**') return last ? '.*' : '(?:[^/]+/)*';
      return part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*') + (last ? '' : '/');
    })
    .join('');
  const re = new RegExp(`^${pattern}$`);
  return (path) => re.test(path);
}

/** The .ts files a tsconfig's `include` folders and `exclude` globs select, relative to `root`. */
export async function compiledFiles(
  root: string,
  tsconfig: { include: string[]; exclude?: string[] },
): Promise<string[]> {
  const excluded = (tsconfig.exclude ?? []).map(globMatcher);
  const out: string[] = [];
  for (const dir of tsconfig.include) {
    for (const file of await sourceFiles(join(root, dir))) {
      const rel = relative(root, file).split(sep).join('/');
      if (rel.endsWith('.ts') && !excluded.some((m) => m(rel))) out.push(rel);
    }
  }
  return out;
}

const MODULE_COLLECTION =
  /^(?:export\s+)?(const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=\n]+)?=\s*new\s+(WeakMap|WeakSet|Map|Set)\b/gm;

/**
 * Module-level collections that hold state in `dir` (relative to `root`; tests left out): every WeakMap or WeakSet
 * (state kept per object: per call, per snapshot, per endpoint), and every Map or Set the module writes to
 * (`.set`, `.add`, `.delete`, `.clear`) or declares with `let`/`var`. Constant lookup tables pass. Each as
 * `file:line NAME (Kind)`. Such state belongs in a typed field of what it is about (the call, the compiled
 * snapshot, the proxy's app), never in a module, where it outlives and mixes the proxies of one process.
 */
export async function moduleState(root: string, dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const file of await sourceFiles(join(root, dir))) {
    if (/\.test\.[mc]?[jt]s$/.test(file)) continue;
    const text = await readFile(file, 'utf8');
    for (const m of text.matchAll(MODULE_COLLECTION)) {
      const [, binding = '', name = '', kind = ''] = m;
      const written = new RegExp(`\\b${name.replace(/\$/g, '\\$')}\\s*\\.\\s*(?:set|add|delete|clear)\\s*\\(`).test(
        text,
      );
      if (kind.startsWith('Weak') || written || binding !== 'const') {
        const line = text.slice(0, m.index).split('\n').length;
        found.push(`${relative(root, file).split(sep).join('/')}:${line} ${name} (${kind})`);
      }
    }
  }
  return found;
}
