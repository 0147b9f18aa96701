/** Cost of a request from its backend's `pricing` (per million tokens; cached input at its own price when known). */
import type { BackendConfig, ProxyConfig } from '../../../shared/src/proxyconfig/index.js';

const backendsByConfig = new WeakMap<ProxyConfig, Map<string, BackendConfig>>();

/** The backend `id` of `config` (indexed once per snapshot). */
export function backendOf(config: ProxyConfig, id: string | undefined): BackendConfig | undefined {
  if (id === undefined) return undefined;
  let m = backendsByConfig.get(config);
  if (!m) {
    m = new Map(config.backends.map((b) => [b.id, b]));
    backendsByConfig.set(config, m);
  }
  return m.get(id);
}

export interface Cost {
  amount: number;
  currency: string;
}

/** Cost of `input`/`output` tokens (of which `cachedInput` were cache reads), or undefined without pricing. */
export function costOf(
  pricing: BackendConfig['pricing'],
  input: number,
  output: number,
  cachedInput = 0,
): Cost | undefined {
  if (!pricing) return undefined;
  const cached = Math.min(cachedInput, input);
  const cachedPrice = pricing.cachedInputPerMillion ?? pricing.inputPerMillion;
  const amount =
    ((input - cached) * pricing.inputPerMillion + cached * cachedPrice + output * pricing.outputPerMillion) / 1_000_000;
  return { amount, currency: pricing.currency };
}
