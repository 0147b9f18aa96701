import { describe, expect, it } from 'vitest';
import { LOADING_RETRY_AFTER_MS, UPSTREAM_LOADING } from '../../errors.js';
import { parseOpenAIError } from './upstream-errors.js';

const body = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('parseOpenAIError', () => {
  it("reads llama.cpp's 503 'Loading model' as the upstream_loading 503 with a Retry-After", () => {
    const e = parseOpenAIError(
      503,
      body({ error: { code: 503, message: 'Loading model', type: 'unavailable_error' } }),
      {},
    );
    expect(e).toMatchObject({ status: 503, code: UPSTREAM_LOADING, retryAfterMs: LOADING_RETRY_AFTER_MS });
    expect(
      parseOpenAIError(503, body({ error: { message: 'Loading model', type: 'unavailable_error' } }), {
        'retry-after': '7',
      }).retryAfterMs,
    ).toBe(7000);
  });

  it('keeps any other 503 an upstream error (502)', () => {
    const e = parseOpenAIError(503, body({ error: { message: 'overloaded', type: 'unavailable_error' } }), {});
    expect(e).toMatchObject({ status: 502, code: 'upstream_error' });
  });
});
