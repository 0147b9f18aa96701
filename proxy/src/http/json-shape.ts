/**
 * The shape of JSON text, measured on the bytes before parsing (strings skipped, escapes honoured) in one linear pass
 * with no recursion: a body nested deeper than any parser or translator should see, or made of more values than
 * one request needs, is refused up front. Parsing and validating cost memory per value, not per byte (a 2 MB array
 * of a million zeros is a million values for the validator to report on), so the value count bounds what one body
 * can make the proxy hold.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;

/**
 * Which bound `json` goes past, if any: `depth` when objects/arrays nest deeper than `maxDepth`, `values` when it has
 * more than `maxValues` values (objects and arrays, and each item and member in them: openings plus separators).
 */
export function jsonBoundExceeded(json: Buffer, maxDepth: number, maxValues: number): 'depth' | 'values' | undefined {
  let depth = 0;
  let values = 1;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const b = json[i];
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) inString = true;
    else if (b === OPEN_OBJECT || b === OPEN_ARRAY) {
      if (++depth > maxDepth) return 'depth';
      if (++values > maxValues) return 'values';
    } else if (b === CLOSE_OBJECT || b === CLOSE_ARRAY) depth--;
    else if (b === COMMA && ++values > maxValues) return 'values';
  }
  return undefined;
}
