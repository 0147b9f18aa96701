/**
 * Regular expressions with RE2 semantics (re2js, a pure-JavaScript port of RE2): matching time is linear in the
 * input, so no pattern and no input can make a match backtrack for ever. The same syntax as the Go RE2 the
 * apiserver's CEL uses to check patterns at admission. Used by the RoutePolicy schema (patterns must compile) and
 * by the proxy's header matches.
 */
import { RE2JS } from 're2js';

/** A compiled pattern that matches a whole string. */
export interface FullMatcher {
  matches(input: string): boolean;
}

/** Why `pattern` is not an RE2 regular expression, or undefined when it compiles. */
export function re2SyntaxError(pattern: string): string | undefined {
  try {
    RE2JS.compile(pattern);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** Compiles `pattern` to match whole strings (as Gateway API header matches do); throws on invalid syntax. */
export function compileFullMatch(pattern: string): FullMatcher {
  const re = RE2JS.compile(pattern);
  return { matches: (input) => re.matches(input) };
}
