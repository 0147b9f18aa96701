/** Image references between OpenAI image URLs (data URLs, http URLs) and Anthropic image sources. */

import { parseDataUrl } from '../common/images.js';
import { untranslatable } from '../common/json.js';
import { type AnthropicImageSource, IMAGE_TYPES, isImageType } from './schemas.js';

/** Anthropic image source for an OpenAI `image_url.url` (data URL → base64 source, http(s) → url source). */
export function anthropicSourceOf(url: string, param: string): AnthropicImageSource {
  const d = parseDataUrl(url);
  if (d && isImageType(d.mediaType)) return { type: 'base64', media_type: d.mediaType, data: d.data };
  if (d) throw untranslatable(param, `Anthropic accepts ${IMAGE_TYPES.join(', ')} images, not ${d.mediaType}`);
  if (/^https?:\/\//i.test(url)) return { type: 'url', url };
  throw untranslatable(param, 'an image must be a base64 data URL or an http(s) URL');
}

/** OpenAI `image_url.url` for an Anthropic image source. */
export function urlOfAnthropicSource(s: AnthropicImageSource, param: string): string {
  if (s.type === 'base64') return `data:${s.media_type};base64,${s.data}`;
  if (s.type === 'url') return s.url;
  throw untranslatable(`${param}.source`, `image source type '${s.type}' cannot be translated`);
}
