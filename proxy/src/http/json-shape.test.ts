import { describe, expect, it } from 'vitest';
import { jsonBoundExceeded } from './json-shape.js';

const check = (text: string, depth = 64, values = 100) => jsonBoundExceeded(Buffer.from(text), depth, values);

describe('jsonBoundExceeded', () => {
  it('counts objects, arrays and every item and member', () => {
    expect(check('{"a":[1,2,3],"b":{"c":null}}', 64, 7)).toBeUndefined();
    expect(check('{"a":[1,2,3],"b":{"c":null}}', 64, 6)).toBe('values');
    expect(check(`[${Array(100).fill(0).join(',')}]`)).toBe('values');
    expect(check(`[${Array(99).fill(0).join(',')}]`)).toBeUndefined();
  });

  it('does not count commas and brackets inside strings, escaped quotes included', () => {
    expect(check(`{"a":"${',[{'.repeat(500)}\\",,,"}`, 2, 3)).toBeUndefined();
  });

  it('reports depth before values when both are exceeded at the same point', () => {
    expect(check('[[[[]]]]', 3, 100)).toBe('depth');
    expect(check(`[${'[],'.repeat(200)}[]]`, 3, 100)).toBe('values');
  });
});
