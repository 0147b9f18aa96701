import { describe, expect, it } from 'vitest';
import { bodyDirectives, outputControls, parseDirectives } from './directives.js';
import { FaultState, parseFaultHeader } from './faults.js';
import { type GenerationSpec, planOutput, planTokens } from './output.js';
import { applyStop, countTokens, generatePieces, splitPieces } from './tokens.js';

const spec = (over: Partial<GenerationSpec> = {}): GenerationSpec => ({
  prompt: 'user: hi',
  maxTokens: undefined,
  stop: [],
  tools: [],
  toolChoice: 'auto',
  lastFromUser: true,
  choices: 1,
  toolIdPrefix: 'call_',
  ...over,
});

describe('tokens', () => {
  it('counts words and punctuation, one token per non-ASCII character', () => {
    expect(countTokens("Hello, world! It's 2024.")).toBe(9);
    expect(countTokens('日本語')).toBe(3);
    expect(countTokens('')).toBe(0);
  });

  it('splits output pieces that join back to the exact text', () => {
    const text = '  Hello,  wide world!\n';
    expect(splitPieces(text).join('')).toBe(text);
    expect(splitPieces('a b')).toEqual(['a', ' b']);
  });

  it('generates deterministic words and cuts at stop strings', () => {
    expect(generatePieces(42, 5)).toEqual(generatePieces(42, 5));
    expect(generatePieces(42, 5)).not.toEqual(generatePieces(43, 5));
    expect(applyStop(['one', ' two', ' three'], ['wo', 'three'])).toEqual({ pieces: ['one', ' t'], stop: 'wo' });
    expect(applyStop(['one'], ['x']).stop).toBeNull();
  });
});

describe('planOutput', () => {
  it('stops naturally at outputTokens, cuts at max_tokens with finish length, honours ignore_eos', () => {
    expect(planOutput(spec(), {}, 1, 16)).toMatchObject({ finish: 'stop' });
    expect(planTokens(planOutput(spec(), {}, 1, 16))).toBe(16);
    const cut = planOutput(spec({ maxTokens: 4 }), {}, 1, 16);
    expect([planTokens(cut), cut.kind === 'text' && cut.finish]).toEqual([4, 'length']);
    const roomy = planOutput(spec({ maxTokens: 100 }), {}, 1, 16);
    expect([planTokens(roomy), roomy.kind === 'text' && roomy.finish]).toEqual([16, 'stop']);
    expect(planTokens(planOutput(spec({ maxTokens: 100, ignoreEos: true }), {}, 1, 16))).toBe(100);
    expect(planTokens(planOutput(spec(), { outputTokens: 3 }, 1, 16))).toBe(3);
  });

  it('calls tools only for a user turn unless forced, with schema-valid arguments', () => {
    const tools = [
      { name: 'f', schema: { type: 'object', properties: { n: { type: 'integer' }, s: { enum: ['x'] } } } },
    ];
    const plan = planOutput(spec({ tools }), { toolCalls: 2 }, 1, 16);
    if (plan.kind !== 'tools') throw new Error('expected tool calls');
    expect(plan.calls).toHaveLength(2);
    expect(plan.calls[0]?.args).toMatchObject({ s: 'x', n: expect.any(Number) });
    expect(plan.calls[0]?.fragments.join('')).toBe(plan.calls[0]?.json);
    expect(planOutput(spec({ tools, lastFromUser: false }), {}, 1, 16).kind).toBe('text');
    expect(planOutput(spec({ tools, lastFromUser: false, toolChoice: 'required' }), {}, 1, 16).kind).toBe('tools');
    expect(planOutput(spec({ tools, toolChoice: 'none' }), {}, 1, 16).kind).toBe('text');
    expect(planOutput(spec({ tools }), { toolCalls: 0 }, 1, 16).kind).toBe('text');
  });
});

describe('directives and faults', () => {
  it('parses key=value; flag syntax and body directives', () => {
    expect(parseDirectives('status=503; Retry-After=2; hang; message="a b"')).toEqual({
      status: '503',
      'retry-after': '2',
      hang: true,
      message: 'a b',
    });
    expect(bodyDirectives('{"content":"x [sim tool-calls=2] y [sim output=Hi there]"}')).toEqual({
      'tool-calls': '2',
      output: 'Hi there',
    });
    expect(bodyDirectives('{"content":"plain"}')).toBeNull();
    expect(outputControls({ 'x-sim-output': 'caf%C3%A9', 'x-sim-tool-calls': '3' }, { 'output-tokens': '7' })).toEqual({
      output: 'café',
      toolCalls: 3,
      outputTokens: 7,
    });
  });

  it('maps header keys to a FaultSpec', () => {
    expect(parseFaultHeader('status=429; retry-after=1.5; rate=0.5')).toEqual({
      status: 429,
      retryAfter: 1.5,
      rate: 0.5,
    });
    expect(parseFaultHeader('reset-after=3')).toEqual({ resetAfterChunks: 3 });
    expect(parseFaultHeader('mid-stream-error=2')).toEqual({ midStreamError: true, afterChunks: 2 });
    expect(parseFaultHeader('close-without-done; slow-first-byte-ms=50')).toEqual({
      closeWithoutDone: true,
      slowFirstByteMs: 50,
    });
    expect(parseFaultHeader('unknown=1')).toBeNull();
  });

  it('prefers the request fault over the instance fault and consumes count', () => {
    const f = new FaultState();
    f.set({ status: 500, count: 1 });
    expect(f.pick('status=404', null, '/v1/chat/completions', true)).toEqual({ status: 404 });
    expect(f.pick(undefined, null, '/health', false)).toBeNull();
    expect(f.pick(undefined, null, '/v1/chat/completions', true)).toMatchObject({ status: 500 });
    expect(f.pick(undefined, null, '/v1/chat/completions', true)).toBeNull();
    expect(f.current).toBeNull();
  });
});
