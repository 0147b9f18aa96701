/**
 * The external guardrail client: one POST per check to a guardrail service speaking the contract in contract.ts.
 * Each guardrail has its own connection pool and a semaphore: at most `maxConcurrency` checks in flight from this
 * proxy and as many again waiting; a check that cannot start, does not answer within `timeoutMs` (waiting
 * included), answers other than 200, or answers something the contract does not allow is decided by the failure
 * mode: `open` allows, `closed` denies. The answer body is read up to a bound. Texts never reach the logs.
 */
import { Pool } from 'undici';
import { type Clock, systemClock } from '../../../shared/src/clock.js';
import { readCapped } from '../http/read-capped.js';
import { GUARDRAIL_CONTRACT_VERSION, type GuardrailCheckRequest, guardrailCheckResponse } from './contract.js';
import { Semaphore } from './semaphore.js';
import type { Guardrail, GuardrailFailure, GuardrailInput, GuardrailVerdict } from './types.js';

export interface ExternalGuardrailConfig {
  /** http(s) URL the checks are POSTed to. */
  url: string;
  timeoutMs: number;
  failureMode: 'open' | 'closed';
  maxConcurrency: number;
  /** Extra request headers (e.g. authorization). */
  headers?: Readonly<Record<string, string>> | undefined;
}

/** Largest answer read from a guardrail service, beyond the size of the texts sent. */
const ANSWER_OVERHEAD_BYTES = 64 * 1024;

/** A guardrail answered by an external service. */
export class ExternalGuardrail implements Guardrail {
  readonly kind = 'external' as const;
  private readonly pool: Pool;
  private readonly semaphore: Semaphore;
  private readonly path: string;

  constructor(
    readonly name: string,
    private readonly config: ExternalGuardrailConfig,
    private readonly clock: Clock = systemClock,
  ) {
    const url = new URL(config.url);
    this.path = `${url.pathname}${url.search}`;
    this.pool = new Pool(url.origin, {
      connections: config.maxConcurrency,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      connect: { timeout: config.timeoutMs },
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    this.semaphore = new Semaphore(config.maxConcurrency, config.maxConcurrency, clock);
  }

  async check(input: GuardrailInput, signal?: AbortSignal): Promise<GuardrailVerdict> {
    const timeout = new AbortController();
    const timer = this.clock.after(
      this.config.timeoutMs,
      () => timeout.abort(new DOMException('The guardrail did not answer in time', 'TimeoutError')),
      { unref: true },
    );
    try {
      const release = await this.semaphore.acquire(this.config.timeoutMs, signal);
      if (!release) return this.failed(signal?.aborted ? 'unavailable' : 'saturated');
      try {
        const deadline = timeout.signal;
        return await this.call(input, signal ? AbortSignal.any([deadline, signal]) : deadline, deadline);
      } finally {
        release();
      }
    } finally {
      timer.cancel();
    }
  }

  private async call(input: GuardrailInput, signal: AbortSignal, deadline: AbortSignal): Promise<GuardrailVerdict> {
    const body: GuardrailCheckRequest = {
      version: GUARDRAIL_CONTRACT_VERSION,
      guardrail: this.name,
      phase: input.phase,
      requestId: input.requestId,
      ...(input.model !== undefined ? { model: input.model } : {}),
      ...(input.tenant !== undefined ? { tenant: input.tenant } : {}),
      texts: [...input.texts],
    };
    const payload = JSON.stringify(body);
    let text: string;
    try {
      const res = await this.pool.request({
        method: 'POST',
        path: this.path,
        headers: { ...this.config.headers, 'content-type': 'application/json', accept: 'application/json' },
        body: payload,
        signal,
      });
      // The deadline may abort a body we stopped reading: that error concerns no one.
      res.body.on('error', () => undefined);
      if (res.statusCode !== 200) {
        res.body.destroy();
        return this.failed('unavailable');
      }
      const read = await readCapped(res.body, Buffer.byteLength(payload) + ANSWER_OVERHEAD_BYTES);
      if (read === undefined) return this.failed('bad_response');
      text = read;
    } catch {
      return this.failed(deadline.aborted ? 'timeout' : 'unavailable');
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return this.failed('bad_response');
    }
    const answer = guardrailCheckResponse.safeParse(parsed);
    if (!answer.success) return this.failed('bad_response');
    const { action, reason, texts } = answer.data;
    if (action === 'mask') {
      if (texts?.length !== input.texts.length) return this.failed('bad_response');
      return { action, texts };
    }
    return action === 'deny' ? { action, reason: reason || 'denied' } : { action };
  }

  private failed(cause: GuardrailFailure): GuardrailVerdict {
    const mode = this.config.failureMode;
    return mode === 'open'
      ? { action: 'allow', failed: { mode, cause } }
      : { action: 'deny', reason: 'guardrail_unavailable', failed: { mode, cause } };
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
