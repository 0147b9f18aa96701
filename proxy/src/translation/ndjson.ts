/** Incremental NDJSON splitter: feeds raw chunks, yields complete lines; keeps only the bytes of a partial line. */
import { StringDecoder } from 'node:string_decoder';

export class NdjsonSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  /** Complete, non-empty lines contained in `chunk` plus what was pending (without their newline). */
  push(chunk: Buffer | string): string[] {
    this.pending += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const out: string[] = [];
    let nl = this.pending.indexOf('\n');
    while (nl >= 0) {
      const line = this.pending.slice(0, nl).trim();
      if (line) out.push(line);
      this.pending = this.pending.slice(nl + 1);
      nl = this.pending.indexOf('\n');
    }
    return out;
  }

  /** A last line that ended without a newline, if any. */
  rest(): string[] {
    const line = (this.pending + this.decoder.end()).trim();
    this.pending = '';
    return line ? [line] : [];
  }
}
