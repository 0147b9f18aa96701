/** Fault injection: the instance fault, and per-request faults from `x-sim-fault` or a `[sim …]` directive. */
import { z } from 'zod';
import { type Directives, parseDirectives } from './directives.js';
import type { FaultSpec } from './types.js';

/** Schema of `POST /_sim/faults` bodies (and of `setFaults`). */
export const faultSpecSchema = z.strictObject({
  status: z.number().int().min(100).max(599).optional(),
  retryAfter: z.number().min(0).optional(),
  message: z.string().optional(),
  rate: z.number().min(0).max(1).optional(),
  count: z.number().int().min(1).optional(),
  resetAfterChunks: z.number().int().min(0).optional(),
  hang: z.boolean().optional(),
  slowFirstByteMs: z.number().min(0).optional(),
  closeWithoutDone: z.boolean().optional(),
  midStreamError: z.boolean().optional(),
  afterChunks: z.number().int().min(0).optional(),
  paths: z.array(z.string()).optional(),
});

function num(v: string | true | undefined): number | undefined {
  if (v === undefined || v === true) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** Builds a fault from parsed directives (`status=503; retry-after=2; reset-after=3; hang; …`); null if none. */
export function faultFromDirectives(d: Directives): FaultSpec | null {
  const f: FaultSpec = {};
  const status = num(d.status);
  if (status !== undefined) f.status = status;
  const retryAfter = num(d['retry-after']);
  if (retryAfter !== undefined) f.retryAfter = retryAfter;
  if (typeof d.message === 'string') f.message = d.message;
  const rate = num(d.rate);
  if (rate !== undefined) f.rate = rate;
  const reset = num(d['reset-after']) ?? num(d['reset-after-chunks']);
  if (reset !== undefined) f.resetAfterChunks = reset;
  if (d.hang !== undefined) f.hang = true;
  const slow = num(d['slow-first-byte-ms']) ?? num(d['slow-first-byte']);
  if (slow !== undefined) f.slowFirstByteMs = slow;
  for (const [key, prop] of [
    ['close-without-done', 'closeWithoutDone'],
    ['mid-stream-error', 'midStreamError'],
  ] as const) {
    const v = d[key];
    if (v === undefined) continue;
    f[prop] = true;
    const n = num(v);
    if (n !== undefined) f.afterChunks = n;
  }
  const after = num(d['after-chunks']);
  if (after !== undefined) f.afterChunks = after;
  return Object.keys(f).length > 0 ? f : null;
}

/** Parses an `x-sim-fault` header value. */
export function parseFaultHeader(value: string): FaultSpec | null {
  return faultFromDirectives(parseDirectives(value));
}

/** The instance fault and the decision of which fault, if any, a request gets. */
export class FaultState {
  private spec: FaultSpec | null = null;
  private remaining = Number.POSITIVE_INFINITY;

  /** The current instance fault. */
  get current(): FaultSpec | null {
    return this.spec;
  }

  set(spec: FaultSpec | null): void {
    this.spec = spec && Object.keys(spec).length > 0 ? spec : null;
    this.remaining = spec?.count ?? Number.POSITIVE_INFINITY;
  }

  /**
   * The fault for one request: the request's own (header, then body directive) or else the instance fault when
   * the path matches. `rate` is rolled here and `count` consumed.
   */
  pick(header: string | undefined, directives: Directives | null, path: string, inference: boolean): FaultSpec | null {
    const own = (header ? parseFaultHeader(header) : null) ?? (directives ? faultFromDirectives(directives) : null);
    if (own) return roll(own) ? own : null;
    const spec = this.spec;
    if (!spec) return null;
    const matches = spec.paths ? spec.paths.some((p) => path.startsWith(p)) : inference;
    if (!matches || !roll(spec)) return null;
    if (--this.remaining <= 0) this.set(null);
    return spec;
  }
}

function roll(f: FaultSpec): boolean {
  return f.rate === undefined || f.rate >= 1 || Math.random() < f.rate;
}
