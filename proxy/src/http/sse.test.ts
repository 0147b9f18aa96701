import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.js';
import { NdjsonSplitter } from '../protocols/common/ndjson.js';
import { SseSplitter } from './sse.js';

const events = (s: SseSplitter, ...chunks: string[]) => chunks.flatMap((c) => s.push(Buffer.from(c)));

describe('SseSplitter', () => {
  it('yields complete events however the bytes are cut, with LF and CRLF line ends', () => {
    const text = 'event: a\ndata: 1\n\n: comment\n\ndata: x\r\ndata: y\r\n\r\ndata: é\n\n';
    const whole = events(new SseSplitter(), text);
    expect(whole.map((e) => [e.event, e.data])).toEqual([
      ['a', '1'],
      [undefined, undefined],
      [undefined, 'x\ny'],
      [undefined, 'é'],
    ]);
    expect(whole.map((e) => e.raw).join('')).toBe(text);
    const bytes = Buffer.from(text);
    for (let cut = 1; cut < bytes.length; cut++) {
      const s = new SseSplitter();
      const parts = [...s.push(bytes.subarray(0, cut)), ...s.push(bytes.subarray(cut))];
      expect(parts).toEqual(whole);
    }
  });

  it('keeps an unfinished event for rest()', () => {
    const s = new SseSplitter();
    expect(events(s, 'data: 1\n\ndata: 2')).toHaveLength(1);
    expect(s.rest()).toBe('data: 2');
  });

  it('fails an event larger than the limit, also when it never ends', () => {
    const s = new SseSplitter(1000);
    expect(events(s, `data: ${'x'.repeat(900)}\n\n`)).toHaveLength(1);
    const endless = new SseSplitter(1000);
    let err: unknown;
    try {
      for (let i = 0; i < 100; i++) endless.push(Buffer.from('x'.repeat(100)));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe('upstream_event_too_large');
    const manyLines = new SseSplitter(1000);
    expect(() => events(manyLines, ...Array.from({ length: 50 }, () => 'data: 0123456789012345678\n'))).toThrow(
      GatewayError,
    );
  });

  it('does linear work: an 8 MiB event in 1 KiB chunks takes well under a second', () => {
    // Rescanning or re-joining the pending text on every chunk makes this take minutes (8192 chunks × 4 MiB).
    const s = new SseSplitter();
    const chunk = Buffer.from('x'.repeat(1024));
    const started = performance.now();
    s.push(Buffer.from('data: '));
    for (let i = 0; i < 8192; i++) s.push(chunk);
    const [event] = s.push(Buffer.from('\n\n'));
    expect(event?.data?.length).toBe(8192 * 1024);
    expect(performance.now() - started).toBeLessThan(5000);
  });
});

describe('NdjsonSplitter', () => {
  it('yields complete non-empty lines however the bytes are cut', () => {
    const text = '{"a":1}\n\n{"b":"é"}\r\n{"c":3}';
    for (let cut = 1; cut < Buffer.byteLength(text); cut++) {
      const s = new NdjsonSplitter();
      const bytes = Buffer.from(text);
      const lines = [...s.push(bytes.subarray(0, cut)), ...s.push(bytes.subarray(cut)), ...s.rest()];
      expect(lines).toEqual(['{"a":1}', '{"b":"é"}', '{"c":3}']);
    }
  });

  it('fails a line larger than the limit, and is linear in an endless one', () => {
    const s = new NdjsonSplitter(1000);
    expect(() => {
      for (let i = 0; i < 100; i++) s.push(Buffer.from('x'.repeat(100)));
    }).toThrow(GatewayError);
    const big = new NdjsonSplitter();
    const chunk = Buffer.from('x'.repeat(1024));
    const started = performance.now();
    for (let i = 0; i < 8192; i++) big.push(chunk);
    expect(big.push(Buffer.from('\n'))[0]?.length).toBe(8192 * 1024);
    expect(performance.now() - started).toBeLessThan(5000);
  });
});
