/** Image references between formats: OpenAI data URLs / http URLs, Anthropic sources, Ollama bare base64. */
import type { AnthropicImageSource } from './anthropic-types.js';
import { untranslatable } from './common.js';

const DATA_URL = /^data:([^;,]+)(?:;[^,]*)?;base64,(.*)$/s;

/** `{mediaType, data}` of a base64 data URL, or undefined for any other URL. */
export function parseDataUrl(url: string): { mediaType: string; data: string } | undefined {
  const m = DATA_URL.exec(url);
  return m ? { mediaType: m[1] as string, data: m[2] as string } : undefined;
}

/** Anthropic image source for an OpenAI `image_url.url` (data URL → base64 source, http(s) → url source). */
export function anthropicSourceOf(url: string, param: string): AnthropicImageSource {
  const d = parseDataUrl(url);
  if (d) return { type: 'base64', media_type: d.mediaType, data: d.data };
  if (/^https?:\/\//i.test(url)) return { type: 'url', url };
  throw untranslatable(param, 'an image must be a base64 data URL or an http(s) URL');
}

/** OpenAI `image_url.url` for an Anthropic image source. */
export function urlOfAnthropicSource(source: unknown, param: string): string {
  const s = source as Partial<{ type: string; media_type: string; data: string; url: string }> | undefined;
  if (s?.type === 'base64' && typeof s.data === 'string') return `data:${s.media_type ?? 'image/png'};base64,${s.data}`;
  if (s?.type === 'url' && typeof s.url === 'string') return s.url;
  throw untranslatable(`${param}.source`, `image source type '${s?.type}' cannot be translated`);
}

const MAGIC: Array<[string, string]> = [
  ['iVBORw0KGgo', 'image/png'],
  ['/9j/', 'image/jpeg'],
  ['R0lGOD', 'image/gif'],
  ['UklGR', 'image/webp'],
];

/** Media type of base64 image bytes by their signature (Ollama sends bare base64); PNG when unknown. */
export function sniffMediaType(base64: string): string {
  for (const [prefix, type] of MAGIC) if (base64.startsWith(prefix)) return type;
  return 'image/png';
}

/** Bare base64 for Ollama's `images` from an OpenAI image URL; Ollama takes no remote URLs. */
export function base64OfImageUrl(url: string, param: string): string {
  const d = parseDataUrl(url);
  if (d) return d.data;
  throw untranslatable(param, 'Ollama accepts only inline (base64 data URL) images, not remote URLs');
}
