/**
 * Bounded metric label values. Only names the current snapshot declares may become label values: a model the
 * client made up, an API key or a tenant unknown to the configuration collapse into `other`, so a client can
 * never grow the number of series.
 */
import type { Runtime } from '../config/runtime.js';

/** Label value used for any name the snapshot does not declare. */
export const OTHER = 'other';

/** `2xx`, `4xx`, `5xx`… for an HTTP status; `unknown` without one. */
export function statusClass(status: number | undefined): string {
  if (status === undefined || status < 100 || status > 599) return 'unknown';
  return `${Math.floor(status / 100)}xx`;
}

/** Resolves client-influenced names to bounded label values against the snapshot being served. */
export class LabelPolicy {
  constructor(private readonly current: () => Runtime | undefined) {}

  /** The model name when the snapshot serves it (model or alias), `other` when not, '' when absent. */
  model(name: string | undefined): string {
    if (name === undefined) return '';
    return this.current()?.models.has(name) ? name : OTHER;
  }

  /** The tenant name when a policy declares it, `other` when not, '' when the request had none. */
  tenant(name: string | undefined): string {
    if (name === undefined) return '';
    return this.current()?.tenants.has(name) ? name : OTHER;
  }
}
