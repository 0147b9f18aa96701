/**
 * Incremental NDJSON splitter: feeds raw chunks, yields complete lines; keeps only the partial line, as pieces
 * (linear in the bytes received); a line growing past `maxLineBytes` is an upstream protocol error.
 */
import { eventTooLarge, LineSplitter } from '../../http/sse.js';

export class NdjsonSplitter {
  private readonly lines = new LineSplitter();

  /** `maxLineBytes`: largest line accepted, in bytes (0: no limit). */
  constructor(private readonly maxLineBytes = 0) {}

  /** Complete, non-empty lines contained in `chunk` plus what was pending (without their newline). */
  push(chunk: Buffer | string): string[] {
    const out: string[] = [];
    const max = this.maxLineBytes;
    this.lines.push(chunk, (raw) => {
      if (max > 0 && raw.length > max) throw eventTooLarge(max);
      const line = raw.trim();
      if (line) out.push(line);
    });
    if (max > 0 && this.lines.pendingLength > max) throw eventTooLarge(max);
    return out;
  }

  /** A last line that ended without a newline, if any. */
  rest(): string[] {
    const line = this.lines.rest().trim();
    return line ? [line] : [];
  }
}
