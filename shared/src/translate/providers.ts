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

/**
 * Base URL of an endpoint: the URL as given when it has a path, else origin + the provider's base path. Undefined
 * when `raw` is not an http(s) URL that parses.
 */
export function endpointBaseUrl(provider: Provider, raw: string): string | undefined {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return undefined;
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.hostname === '') return undefined;
  const path = u.pathname.replace(/\/+$/, '');
  return `${u.origin}${path === '' ? PROVIDER_DEFAULTS[provider].basePath : path}`;
}
