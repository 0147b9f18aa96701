/** Cached answers as stored: one JSON line of metadata, then the body exactly as the first client received it. */

export interface CacheEntry {
  contentType: string;
  body: string;
}

export function encodeEntry(e: CacheEntry): string {
  return `${JSON.stringify({ v: 1, ct: e.contentType })}\n${e.body}`;
}

/** The entry, or undefined for data this version cannot read. */
export function decodeEntry(raw: string): CacheEntry | undefined {
  const nl = raw.indexOf('\n');
  if (nl < 0) return undefined;
  try {
    const meta = JSON.parse(raw.slice(0, nl)) as { v?: unknown; ct?: unknown };
    if (meta.v !== 1 || typeof meta.ct !== 'string') return undefined;
    return { contentType: meta.ct, body: raw.slice(nl + 1) };
  } catch {
    return undefined;
  }
}
