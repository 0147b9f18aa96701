/**
 * Incremental Server-Sent Events splitter: feeds raw chunks, yields complete events. Keeps only the text of the
 * partial event, as pieces joined once the event is complete, so the work is linear in the bytes received however
 * the events are cut into chunks; an event growing past `maxEventBytes` is an upstream protocol error.
 */
import { errors, type GatewayError } from '../errors.js';

export interface SseEvent {
  /** The raw event text including its terminating blank line, ready to forward as is. */
  raw: string;
  /** `event:` field, if any. */
  event: string | undefined;
  /** Joined `data:` lines, or undefined for comment-only events. */
  data: string | undefined;
}

/** The error for an upstream stream event or line larger than the limit. */
export function eventTooLarge(limit: number): GatewayError {
  return errors.badGateway(`upstream sent a stream event larger than ${limit} bytes`, 'upstream_event_too_large');
}

const NEWLINE = 0x0a;

/**
 * Splits bytes into complete lines (with their `\n`), decoding only complete lines: a partial line is kept as the
 * Buffers it arrived in, so a line that never ends costs one native newline search per chunk and nothing else.
 * (UTF-8 never uses the byte 0x0a inside a character, so decoding line by line is exact.)
 */
export class LineSplitter {
  private partial: Buffer[] = [];
  private partialLength = 0;

  /** Complete lines in `chunk` plus what was pending, each ending with `\n`. */
  push(chunk: Buffer | string, onLine: (line: string) => void): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let from = 0;
    for (let nl = bytes.indexOf(NEWLINE); nl >= 0; nl = bytes.indexOf(NEWLINE, from)) {
      const piece = bytes.subarray(from, nl + 1);
      from = nl + 1;
      if (this.partial.length === 0) onLine(piece.toString('utf8'));
      else {
        this.partial.push(piece);
        const line = Buffer.concat(this.partial, this.partialLength + piece.length).toString('utf8');
        this.partial = [];
        this.partialLength = 0;
        onLine(line);
      }
    }
    if (from < bytes.length) {
      this.partial.push(from === 0 ? bytes : bytes.subarray(from));
      this.partialLength += bytes.length - from;
    }
  }

  /** Bytes of the incomplete last line. */
  get pendingLength(): number {
    return this.partialLength;
  }

  /** The incomplete last line, emptying the splitter. */
  rest(): string {
    const line = Buffer.concat(this.partial, this.partialLength).toString('utf8');
    this.partial = [];
    this.partialLength = 0;
    return line;
  }
}

export class SseSplitter {
  private readonly lines = new LineSplitter();
  private eventLines: string[] = [];
  private eventLength = 0;

  /** `maxEventBytes`: largest event accepted, in bytes (0: no limit). */
  constructor(private readonly maxEventBytes = 0) {}

  /** Complete events contained in `chunk` plus what was pending. Throws a 502 GatewayError for an oversized event. */
  push(chunk: Buffer | string): SseEvent[] {
    const out: SseEvent[] = [];
    this.lines.push(chunk, (line) => {
      if (line === '\n' || line === '\r\n') {
        // A blank line ends the event; blank lines between events carry nothing.
        if (this.eventLines.length === 0) return;
        out.push(parseEvent(this.eventLines, line));
        this.eventLines = [];
        this.eventLength = 0;
        return;
      }
      this.eventLines.push(line);
      this.eventLength += line.length;
      this.check();
    });
    this.check();
    return out;
  }

  private check(): void {
    const max = this.maxEventBytes;
    if (max > 0 && this.eventLength + this.lines.pendingLength > max) throw eventTooLarge(max);
  }

  /** Whatever incomplete event text is left. */
  rest(): string {
    const text = this.eventLines.join('') + this.lines.rest();
    this.eventLines = [];
    this.eventLength = 0;
    return text;
  }
}

function parseEvent(lines: readonly string[], terminator: string): SseEvent {
  let event: string | undefined;
  let data: string | undefined;
  for (const raw of lines) {
    const line = raw.endsWith('\r\n') ? raw.slice(0, -2) : raw.slice(0, -1);
    if (line.startsWith('data:')) {
      const v = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
      data = data === undefined ? v : `${data}\n${v}`;
    } else if (line.startsWith('event:')) {
      event = line.slice(6).trim();
    }
  }
  return { raw: lines.join('') + terminator, event, data };
}
