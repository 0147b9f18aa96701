import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/clock.js';
import { GatewayError } from '../errors.js';
import { readJsonObject } from './body.js';

const limits = { maxBodyBytes: 1024, bodyTimeoutMs: 800, maxJsonDepth: 8, maxJsonValues: 100 };

/** A request whose body the test sends piece by piece, read with a fake clock. */
function request() {
  const incoming = new IncomingMessage(new Socket());
  const clock = new FakeClock(0);
  let outcome: 'pending' | Record<string, unknown> | GatewayError = 'pending';
  void readJsonObject(incoming, { limits, clock }).then(
    (body) => {
      outcome = body;
    },
    (e: GatewayError) => {
      outcome = e;
    },
  );
  return { incoming, clock, outcome: () => outcome };
}

describe('request body time limit', () => {
  it('answers 408 when the body has not ended within the limit after reading began', async () => {
    const r = request();
    r.incoming.push(Buffer.from('{"model":'));
    await r.clock.advance(799);
    expect(r.outcome()).toBe('pending');
    await r.clock.advance(1);
    expect(r.outcome()).toBeInstanceOf(GatewayError);
    expect(r.outcome()).toMatchObject({ status: 408, code: 'request_timeout' });
  });

  it('reads a body that ends in time and leaves no timer behind', async () => {
    const r = request();
    r.incoming.push(Buffer.from('{"model":'));
    await r.clock.advance(799);
    r.incoming.push(Buffer.from('"m"}'));
    r.incoming.push(null);
    await r.clock.advance(0);
    expect(r.outcome()).toEqual({ model: 'm' });
    expect(r.clock.pending).toBe(0);
  });
});
