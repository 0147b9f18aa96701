/** Model allow-lists: exact names, or a prefix with a trailing `*` (`gpt-4o*`); `*` alone allows every model. */

/** True when `model` (or one of several names of the same thing) matches one of `patterns`. */
export function modelAllowed(patterns: readonly string[], model: string | readonly string[]): boolean {
  const names = typeof model === 'string' ? [model] : model;
  for (const p of patterns) {
    const prefix = p.endsWith('*') ? p.slice(0, -1) : undefined;
    for (const n of names) if (prefix !== undefined ? n.startsWith(prefix) : p === n) return true;
  }
  return false;
}
