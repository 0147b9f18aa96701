/** Image references shared by the protocols: base64 data URLs, and the media type of bare base64 image bytes. */

const DATA_URL = /^data:([^;,]+)(?:;[^,]*)?;base64,(.*)$/s;

/** `{mediaType, data}` of a base64 data URL, or undefined for any other URL. */
export function parseDataUrl(url: string): { mediaType: string; data: string } | undefined {
  const m = DATA_URL.exec(url);
  return m ? { mediaType: m[1] as string, data: m[2] as string } : undefined;
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
