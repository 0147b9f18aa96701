/**
 * Incremental Server-Sent Events splitter: feeds raw chunks, yields complete events. Keeps only the bytes of a
 * partial event; nothing else is buffered.
 */
import { StringDecoder } from 'node:string_decoder';

export interface SseEvent {
  /** The raw event text including its terminating blank line, ready to forward as is. */
  raw: string;
  /** `event:` field, if any. */
  event: string | undefined;
  /** Joined `data:` lines, or undefined for comment-only events. */
  data: string | undefined;
}

export class SseSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  /** Complete events contained in `chunk` plus what was pending. */
  push(chunk: Buffer | string): SseEvent[] {
    this.pending += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const out: SseEvent[] = [];
    for (;;) {
      const m = /\r?\n\r?\n/.exec(this.pending);
      if (!m) break;
      const end = m.index + m[0].length;
      const raw = this.pending.slice(0, end);
      this.pending = this.pending.slice(end);
      out.push(parseEvent(raw));
    }
    return out;
  }

  /** Whatever incomplete event text is left. */
  rest(): string {
    return this.pending + this.decoder.end();
  }
}

function parseEvent(raw: string): SseEvent {
  let event: string | undefined;
  let data: string | undefined;
  for (const line of raw.split(/\r?\n/)) {
    if (line.startsWith('data:')) {
      const v = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
      data = data === undefined ? v : `${data}\n${v}`;
    } else if (line.startsWith('event:')) {
      event = line.slice(6).trim();
    }
  }
  return { raw, event, data };
}
