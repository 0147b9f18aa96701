/**
 * The guardrails of a snapshot, built once per snapshot. External guardrails keep their connection pool across
 * snapshots while their settings stay the same; one a new snapshot no longer has is closed after a grace period
 * (requests still running on the old snapshot finish their checks first).
 */
import { type Clock, systemClock, type Timer } from '../../../shared/src/clock.js';
import type { GuardrailConfig, ProxyConfig } from '../../../shared/src/proxyconfig/index.js';
import { ExternalGuardrail } from './external.js';
import { localGuardrail } from './local.js';
import type { Guardrail, GuardrailPhase } from './types.js';

/** A guardrail of the snapshot with what the request path needs to know about it. */
export interface CompiledGuardrail {
  guardrail: Guardrail;
  phases: ReadonlySet<GuardrailPhase>;
  streamWindowChars: number;
}

/** Guardrail id → compiled guardrail, for one snapshot. */
export type GuardrailSet = ReadonlyMap<string, CompiledGuardrail>;

const EMPTY: GuardrailSet = new Map();
const CLOSE_AFTER_MS = 60_000;

/** Builds and caches the guardrails of each snapshot; owns the external guardrails' connections. */
export class GuardrailRegistry {
  private readonly sets = new WeakMap<ProxyConfig, GuardrailSet>();
  private externals = new Map<string, ExternalGuardrail>();
  private readonly retiring = new Set<Timer>();
  private closed = false;

  /** `clock` times the external checks and the retirement of unused connections (default: the system clock). */
  constructor(private readonly clock: Clock = systemClock) {}

  /** The guardrails of `config`. */
  setFor(config: ProxyConfig): GuardrailSet {
    let set = this.sets.get(config);
    if (!set) {
      set = this.compile(config);
      this.sets.set(config, set);
    }
    return set;
  }

  private compile(config: ProxyConfig): GuardrailSet {
    const configs = config.policies.flatMap((p) => p.guardrails ?? []);
    if (configs.length === 0 && this.externals.size === 0) return EMPTY;
    const next = new Map<string, ExternalGuardrail>();
    const set = new Map<string, CompiledGuardrail>();
    for (const g of configs) {
      set.set(g.id, {
        guardrail: this.build(g, next),
        phases: new Set(g.phases),
        streamWindowChars: g.streamWindowChars,
      });
    }
    const unused = [...this.externals].filter(([key]) => !next.has(key)).map(([, g]) => g);
    this.externals = next;
    if (unused.length > 0 && !this.closed) {
      const timer = this.clock.after(
        CLOSE_AFTER_MS,
        () => {
          this.retiring.delete(timer);
          for (const g of unused) void g.close();
        },
        { unref: true },
      );
      this.retiring.add(timer);
    }
    return set;
  }

  private build(g: GuardrailConfig, next: Map<string, ExternalGuardrail>): Guardrail {
    if (g.local) return localGuardrail(g.id, g.local);
    const e = g.external;
    if (!e) throw new Error(`guardrail ${g.id} is neither local nor external`);
    const key = JSON.stringify([g.id, e.url, e.timeoutMs, e.failureMode, e.maxConcurrency, e.token ?? '']);
    const existing = next.get(key) ?? this.externals.get(key);
    const external =
      existing ??
      new ExternalGuardrail(
        g.id,
        {
          url: e.url,
          timeoutMs: e.timeoutMs,
          failureMode: e.failureMode,
          maxConcurrency: e.maxConcurrency,
          ...(e.token !== undefined ? { headers: { authorization: `Bearer ${e.token}` } } : {}),
        },
        this.clock,
      );
    next.set(key, external);
    return external;
  }

  /** Closes every external guardrail's connections. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.retiring) t.cancel();
    this.retiring.clear();
    await Promise.all([...this.externals.values()].map((g) => g.close()));
    this.externals.clear();
  }
}
