/** Which wire protocol each provider kind speaks. */
import type { Provider } from '../../../shared/src/api/v1alpha1/index.js';
import type { Protocol } from './types.js';

export const PROTOCOL_OF: Record<Provider, Protocol> = {
  'openai-compatible': 'openai',
  vllm: 'openai',
  llamacpp: 'openai',
  openai: 'openai',
  anthropic: 'anthropic',
  ollama: 'ollama',
};
