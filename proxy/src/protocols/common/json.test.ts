import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { inKeyOrder, parseUpstreamJson } from './json.js';

describe('inKeyOrder', () => {
  it("puts a schema's output back in the input's key order, at every depth, extra keys last", () => {
    const raw = { z: 1, a: { y: [{ q: 1, p: 2 }], x: 2 }, m: 'm' };
    const data = { a: { x: 2, y: [{ p: 2, q: 1 }] }, m: 'm', z: 1, added: true };
    const out = inKeyOrder(data, raw);
    expect(JSON.stringify(out)).toBe('{"z":1,"a":{"y":[{"q":1,"p":2}],"x":2},"m":"m","added":true}');
  });

  it('keeps objects already in order (the same object, nothing rebuilt) and leaves mismatched shapes alone', () => {
    const inner = { a: 1, b: 2 };
    const data = { k: inner, list: [1, 2] };
    expect(inKeyOrder(data, { k: { a: 1, b: 2 }, list: [1, 2] })).toBe(data);
    expect(data.k).toBe(inner);
    expect(inKeyOrder(data, [1])).toBe(data);
    expect(inKeyOrder([{ b: 1, a: 2 }], { a: 1 })).toEqual([{ b: 1, a: 2 }]);
    expect(inKeyOrder('text', { a: 1 })).toBe('text');
  });

  it("serves parseUpstreamJson: a loose schema's answer keeps the upstream's order", () => {
    const shape = z.looseObject({ id: z.string(), choices: z.array(z.looseObject({ index: z.number() })) });
    const body = Buffer.from('{"choices":[{"message":{"content":"hi"},"index":0}],"object":"x","id":"c1"}');
    expect(JSON.stringify(parseUpstreamJson(body, shape))).toBe(body.toString());
  });
});
