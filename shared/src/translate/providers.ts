/** Per-provider defaults that translation needs (base path of the API, health path). Data only. */
import type { Provider } from '../api/v1alpha1/index.js';

export interface ProviderDefaults {
  /** Path appended to a bare origin (`http://host:8000`) to get the API base URL. */
  basePath: string;
  /** Health-check path relative to the origin, or `null` to check the models list under the base URL. */
  healthPath: string | null;
  /** Whether a health check must carry credentials (vendor APIs). */
  vendor: boolean;
}

export const PROVIDER_DEFAULTS: Record<Provider, ProviderDefaults> = {
  'openai-compatible': { basePath: '/v1', healthPath: null, vendor: false },
  vllm: { basePath: '/v1', healthPath: '/health', vendor: false },
  llamacpp: { basePath: '/v1', healthPath: '/health', vendor: false },
  openai: { basePath: '/v1', healthPath: null, vendor: true },
  anthropic: { basePath: '/v1', healthPath: null, vendor: true },
  ollama: { basePath: '', healthPath: '/api/version', vendor: false },
};

/** Base URL of an endpoint: the URL as given when it has a path, else origin + the provider's base path. */
export function endpointBaseUrl(provider: Provider, raw: string): string {
  const u = new URL(raw);
  const path = u.pathname.replace(/\/+$/, '');
  return `${u.origin}${path === '' ? PROVIDER_DEFAULTS[provider].basePath : path}`;
}
