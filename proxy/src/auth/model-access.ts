/** Model allow-lists: exact names, or a prefix with a trailing `*` (`gpt-4o*`); `*` alone allows every model. */

/** True when `model` matches one of `patterns`. */
export function modelAllowed(patterns: readonly string[], model: string): boolean {
  for (const p of patterns) {
    if (p.endsWith('*') ? model.startsWith(p.slice(0, -1)) : p === model) return true;
  }
  return false;
}
