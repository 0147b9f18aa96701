/** A small in-memory response cache (when Redis is absent or down): TTL per entry, total size bound, LRU eviction. */

export class MemoryCache {
  private readonly entries = new Map<string, { value: string; expiresAt: number }>();
  private bytes = 0;

  constructor(private readonly maxBytes = 32 * 1024 * 1024) {}

  get(key: string, now = Date.now()): string | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    this.entries.delete(key);
    if (e.expiresAt <= now) {
      this.bytes -= e.value.length;
      return undefined;
    }
    this.entries.set(key, e); // most recently used last
    return e.value;
  }

  set(key: string, value: string, ttlMs: number, now = Date.now()): void {
    if (value.length > this.maxBytes) return;
    const old = this.entries.get(key);
    if (old) {
      this.bytes -= old.value.length;
      this.entries.delete(key);
    }
    this.entries.set(key, { value, expiresAt: now + ttlMs });
    this.bytes += value.length;
    for (const [k, e] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(k);
      this.bytes -= e.value.length;
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
