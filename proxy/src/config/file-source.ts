/**
 * Standalone mode: reads LLMBackend / LLMPool / RoutePolicy (and Secret) manifests from a YAML file or a
 * directory of them, translates them in-process with the same shared/ code the operator uses, and reloads when
 * the files change. A broken edit (invalid YAML or schema, or a broken reference such as a pool naming a missing
 * backend) is logged and the last good snapshot keeps serving. At start, with nothing to keep, the resources that
 * translate cleanly are served and the broken ones logged, as the operator does.
 */
import { watch } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { type Clock, systemClock, type Timer } from '../../../shared/src/clock.js';
import { parseManifests } from '../../../shared/src/manifests/parse.js';
import type { ProxyConfig } from '../../../shared/src/proxyconfig/index.js';
import { formatProblem, translate } from '../../../shared/src/translate/index.js';
import type { Problem } from '../../../shared/src/translate/problems.js';
import type { SnapshotStore } from './store.js';

/** Replaces `${NAME}` in Secret values with environment variables, so keys need not be written in files. */
function expandEnv(text: string): string {
  return text.replace(/\$\{([A-Z_][A-Z0-9_]*)\}/g, (whole, name: string) => process.env[name] ?? whole);
}

async function readSources(path: string): Promise<Array<{ name: string; text: string }>> {
  const s = await stat(path);
  if (!s.isDirectory()) return [{ name: path, text: await readFile(path, 'utf8') }];
  const names = (await readdir(path)).filter((n) => /\.ya?ml$/.test(n)).sort();
  return Promise.all(names.map(async (n) => ({ name: join(path, n), text: await readFile(join(path, n), 'utf8') })));
}

/** Manifests whose references do not resolve (the problems are in `problems`, as formatted lines). */
export class BrokenReferencesError extends Error {
  constructor(readonly problems: string[]) {
    super(`${problems.length} resource problem(s): ${problems.slice(0, 5).join('; ')}`);
    this.name = 'BrokenReferencesError';
  }
}

/** Reads and translates the manifests at `path`; throws ManifestError on invalid manifests. */
export async function loadManifests(path: string): Promise<{ config: ProxyConfig; problems: Problem[] }> {
  const input = { backends: [], pools: [], policies: [], secrets: [] } as ReturnType<typeof parseManifests>;
  for (const src of await readSources(path)) {
    const parsed = parseManifests(src.text, src.name);
    for (const s of parsed.secrets) {
      if (s.stringData)
        s.stringData = Object.fromEntries(Object.entries(s.stringData).map(([k, v]) => [k, expandEnv(v)]));
    }
    input.backends.push(...parsed.backends);
    input.pools.push(...parsed.pools);
    input.policies.push(...parsed.policies);
    input.secrets.push(...parsed.secrets);
  }
  return translate(input);
}

/** How long the files must stay unchanged before a reload (an edit is often several writes and renames). */
export const RELOAD_DEBOUNCE_MS = 100;

/**
 * Loads `path` into `store` now and on every change, `RELOAD_DEBOUNCE_MS` on `clock` after the last one; returns a
 * function that stops watching.
 */
export async function watchManifests(
  path: string,
  store: SnapshotStore,
  log: Logger,
  clock: Clock = systemClock,
): Promise<() => void> {
  const first = await loadManifests(path);
  for (const p of first.problems) log.warn({ reason: p.reason }, formatProblem(p));
  store.apply(first.config);
  let timer: Timer | undefined;
  const reload = () => {
    timer?.cancel();
    timer = clock.after(RELOAD_DEBOUNCE_MS, async () => {
      try {
        const { config, problems } = await loadManifests(path);
        if (problems.length > 0) throw new BrokenReferencesError(problems.map(formatProblem));
        const before = store.current?.config.version;
        store.apply(config);
        if (config.version !== before) log.info({ version: config.version, path }, 'configuration reloaded');
      } catch (e) {
        log.error(
          { err: e instanceof Error ? e.message : String(e), serving: store.current?.config.version },
          'configuration reload failed; keeping the last good one',
        );
      }
    });
  };
  const isDir = (await stat(path)).isDirectory();
  // Watch the directory: editors and ConfigMap updates replace files rather than writing them in place.
  const watcher = watch(isDir ? path : join(path, '..'), () => reload());
  return () => {
    timer?.cancel();
    watcher.close();
  };
}
