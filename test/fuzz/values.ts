/**
 * Hostile JSON values for the client fuzzer: edge numbers and strings, huge and deeply nested values, and a JSON
 * writer that can place raw text (NaN, 1e400, duplicate keys, 100,000 levels of nesting) where a value goes.
 */
import type { Rng } from '../sim/hostile/rng.js';

/** Raw JSON text written as it is (it may be invalid or too deep for JSON.stringify). */
export class RawJson {
  constructor(readonly text: string) {}
}

/** A JSON value that may contain raw text. */
export type Value = null | boolean | number | string | RawJson | Value[] | { [k: string]: Value };

/** Serialises `v`, writing RawJson verbatim. Recursion follows the (shallow) tree, never the raw text. */
export function writeJson(v: Value): string {
  if (v instanceof RawJson) return v.text;
  if (Array.isArray(v)) return `[${v.map(writeJson).join(',')}]`;
  if (v !== null && typeof v === 'object')
    return `{${Object.entries(v)
      .map(([k, x]) => `${JSON.stringify(k)}:${writeJson(x)}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

/** Number literals at and past the edges of JSON and IEEE 754 (some invalid JSON on purpose). */
export const EDGE_NUMBERS = [
  '0',
  '-0',
  '-1',
  '1.5',
  '1e308',
  '-1e308',
  '1e400',
  '5e-324',
  '9007199254740993',
  '18446744073709551616',
  '1'.repeat(400),
  'NaN',
  'Infinity',
  '-Infinity',
  '0x10',
  '1e',
  '2147483648',
  '-2147483649',
];

/** Strings that break naive handling: NUL, lone surrogates, bidi overrides, CRLF injection, templates. */
export const EDGE_STRINGS = [
  '',
  ' ',
  '\u0000',
  '\ud800',
  '\udc00x\ud800',
  '😀'.repeat(50),
  '\u202eevil',
  'e\u0301\u0301\u0301',
  '\r\n\r\nHTTP/1.1 200 OK\r\n',
  '<script>alert(1)</script>',
  `\${jndi:ldap://x}`,
  '../../../../etc/passwd',
  '\u001b[31mred\u001b[0m',
  '%s%s%n',
  '\ufeff',
  '\u2028\u2029',
  'null',
];

/** Nested arrays or objects `depth` levels deep. */
export function deepValue(depth: number, objects: boolean): RawJson {
  return new RawJson(
    objects ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}` : `${'['.repeat(depth)}${']'.repeat(depth)}`,
  );
}

/** A random value of any kind; `size` scales strings and arrays. */
export function randomValue(rng: Rng, depth = 0): Value {
  switch (rng.int(depth > 2 ? 6 : 9)) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return new RawJson(rng.pick(EDGE_NUMBERS));
    case 3:
      return rng.pick(EDGE_STRINGS);
    case 4:
      return rng.range(-5, 100_000);
    case 5:
      return 'text';
    case 6:
      return Array.from({ length: rng.range(0, 4) }, () => randomValue(rng, depth + 1));
    case 7:
      return Object.fromEntries(
        Array.from({ length: rng.range(0, 4) }, () => [
          rng.pick(['type', 'text', 'role', 'content', '__proto__', 'constructor', 'x', '']),
          randomValue(rng, depth + 1),
        ]),
      );
    default:
      return deepValue(rng.pick([64, 1000, 20_000]), rng.chance(0.5));
  }
}

/** Every path to a value inside `v` (object keys and array indices), the root excluded. */
export function paths(
  v: Value,
  prefix: (string | number)[] = [],
  out: (string | number)[][] = [],
): (string | number)[][] {
  if (out.length > 2000) return out;
  if (Array.isArray(v))
    v.forEach((x, i) => {
      out.push([...prefix, i]);
      paths(x, [...prefix, i], out);
    });
  else if (v !== null && typeof v === 'object' && !(v instanceof RawJson))
    for (const [k, x] of Object.entries(v)) {
      out.push([...prefix, k]);
      paths(x, [...prefix, k], out);
    }
  return out;
}

/** The container holding `path`'s last step, and that step. */
export function parentOf(root: Value, path: (string | number)[]): { parent: Value; key: string | number } | null {
  let cur: Value = root;
  for (const step of path.slice(0, -1)) {
    if (cur === null || typeof cur !== 'object' || cur instanceof RawJson) return null;
    cur = (cur as Record<string | number, Value>)[step] as Value;
  }
  const key = path.at(-1);
  if (key === undefined || cur === null || typeof cur !== 'object' || cur instanceof RawJson) return null;
  return { parent: cur, key };
}

/** Sets `path` in `root` to `v` (nothing when the path no longer exists). */
export function setAt(root: Value, path: (string | number)[], v: Value): void {
  const p = parentOf(root, path);
  if (p) (p.parent as Record<string | number, Value>)[p.key] = v;
}

/** Removes `path` from `root`. */
export function deleteAt(root: Value, path: (string | number)[]): void {
  const p = parentOf(root, path);
  if (!p) return;
  if (Array.isArray(p.parent) && typeof p.key === 'number') p.parent.splice(p.key, 1);
  else delete (p.parent as Record<string, Value>)[p.key];
}
