import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GuardrailService, startGuardrailService } from '../../../test/sim/guardrail.js';
import { FakeClock } from '../../../test/support/clock.js';
import { waitFor } from '../../../test/support/wait.js';
import { ExternalGuardrail, type ExternalGuardrailConfig } from './external.js';
import { localGuardrail } from './local.js';
import { Semaphore } from './semaphore.js';
import type { GuardrailInput } from './types.js';

const input = (...texts: string[]): GuardrailInput => ({ phase: 'request', texts, requestId: 'r1', model: 'm' });

describe('local guardrail', () => {
  const g = localGuardrail('team/policy/pii', { mask: ['email', 'phone'], deny: ['card', 'secret'] });

  it('allows clean texts, masks the mask kinds and denies the deny kinds with the kind as reason', async () => {
    expect(await g.check(input('hello', 'world'))).toEqual({ action: 'allow' });
    expect(await g.check(input('hi', 'mail a@example.com or +44 20 7946 0958'))).toEqual({
      action: 'mask',
      texts: ['hi', 'mail [EMAIL] or [PHONE]'],
    });
    expect(await g.check(input('a@example.com', 'card 4111 1111 1111 1111'))).toEqual({
      action: 'deny',
      reason: 'card',
    });
  });
});

describe('external guardrail', () => {
  let svc: GuardrailService;
  const guardrails: ExternalGuardrail[] = [];
  const make = (over: Partial<ExternalGuardrailConfig> = {}, clock?: FakeClock) => {
    const g = new ExternalGuardrail(
      'team/policy/ext',
      { url: svc.url, timeoutMs: 2000, failureMode: 'closed', maxConcurrency: 4, ...over },
      clock,
    );
    guardrails.push(g);
    return g;
  };

  beforeAll(async () => {
    svc = await startGuardrailService();
  });
  afterAll(async () => {
    await Promise.all(guardrails.map((g) => g.close()));
    await svc?.close();
  });

  it('sends the contract request and applies allow, mask and deny answers', async () => {
    svc.reset();
    const g = make({ headers: { authorization: 'Bearer guard-token' } });
    expect(await g.check(input('hello'))).toEqual({ action: 'allow' });
    expect(await g.check(input('a classified plan', 'ok'))).toEqual({
      action: 'mask',
      texts: ['a [REDACTED] plan', 'ok'],
    });
    expect(await g.check(input('this is forbidden'))).toEqual({ action: 'deny', reason: 'blocked_word' });
    expect(svc.requests()[0]).toEqual({
      version: 1,
      guardrail: 'team/policy/ext',
      phase: 'request',
      requestId: 'r1',
      model: 'm',
      texts: ['hello'],
    });
  });

  it.each([
    ['a timeout', { hang: true }, 'timeout'],
    ['an error status', { status: 503 }, 'unavailable'],
    ['an answer that is not JSON', { rawBody: 'yes' }, 'bad_response'],
    ['an unknown action', { rawBody: '{"action":"maybe"}' }, 'bad_response'],
    ['a mask with the wrong number of texts', { rawBody: '{"action":"mask","texts":[]}' }, 'bad_response'],
  ] as const)('decides %s by its failure mode: closed denies, open allows', async (_what, fault, cause) => {
    svc.reset();
    svc.set(fault);
    // The limit runs out only when the test advances the clock, after the hanging service got the check.
    const clock = new FakeClock(0);
    const verdict = async (g: ExternalGuardrail) => {
      const seen = svc.requests().length;
      let decided = false;
      const v = g.check(input('hello')).finally(() => {
        decided = true;
      });
      if (cause === 'timeout') {
        await waitFor(() => svc.requests().length > seen, 5000, 'the check at the service');
        await clock.advance(199);
        expect(decided).toBe(false);
        await clock.advance(1);
      }
      return v;
    };
    const closed = make({ timeoutMs: 200 }, clock);
    const open = make({ timeoutMs: 200, failureMode: 'open' }, clock);
    expect(await verdict(closed)).toEqual({
      action: 'deny',
      reason: 'guardrail_unavailable',
      failed: { mode: 'closed', cause },
    });
    expect(await verdict(open)).toEqual({ action: 'allow', failed: { mode: 'open', cause } });
  });

  it('answers an unreachable service by its failure mode', async () => {
    const g = make({ url: 'http://127.0.0.1:1/check', failureMode: 'open' });
    expect(await g.check(input('x'))).toMatchObject({ action: 'allow', failed: { cause: 'unavailable' } });
  });

  it('holds at most maxConcurrency checks at the service and as many waiting; more are decided at once', async () => {
    svc.reset();
    svc.set({ delayMs: 300 });
    const g = make({ maxConcurrency: 3, timeoutMs: 5000, failureMode: 'closed' });
    const verdicts = await Promise.all(Array.from({ length: 10 }, () => g.check(input('hello'))));
    expect(svc.maxInFlight()).toBe(3);
    expect(verdicts.filter((v) => v.action === 'allow')).toHaveLength(6);
    expect(verdicts.filter((v) => v.failed?.cause === 'saturated')).toHaveLength(4);
  });
});

describe('semaphore', () => {
  it('hands a released slot to the longest waiter, and gives up on timeout or abort', async () => {
    const clock = new FakeClock(0);
    const s = new Semaphore(1, 2, clock);
    const first = await s.acquire(1000);
    const order: string[] = [];
    const a = s.acquire(5000).then((r) => {
      order.push('a');
      return r;
    });
    const ac = new AbortController();
    const b = s.acquire(5000, ac.signal);
    expect(await s.acquire(5000)).toBeUndefined(); // two already wait
    ac.abort();
    expect(await b).toBeUndefined();
    first?.();
    const second = await a;
    expect(order).toEqual(['a']);
    expect(s.inFlight).toBe(1);
    second?.();
    expect(s.inFlight).toBe(0);
    expect(await s.acquire(10)).toBeDefined();
    let late: (() => void) | undefined | 'waiting' = 'waiting';
    void s.acquire(10).then((r) => {
      late = r;
    });
    await clock.advance(9);
    expect(late).toBe('waiting');
    await clock.advance(1);
    expect(late).toBeUndefined(); // timed out: the slot is held
  });
});
