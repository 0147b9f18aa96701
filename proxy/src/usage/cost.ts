/** Cost of a request from its backend's `pricing` (per million tokens; cached input at its own price when known). */
import type { BackendConfig } from '../../../shared/src/proxyconfig/index.js';

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
