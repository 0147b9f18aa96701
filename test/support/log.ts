/** Logs a test reads back: for events the proxy only logs (a refused reload, a dropped record) and the access log. */
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

/** One JSON log record. */
export type LogRecord = Record<string, unknown> & { msg?: string };

/** A pino logger at `level` that keeps every record it writes in `records`, in order. */
export function capturedLogger(level = 'info'): { log: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const log = pino({ level }, { write: (line: string) => records.push(JSON.parse(line) as LogRecord) });
  return { log, records };
}

/** A destination for pino that appends every line written to it (one record's JSON text each) to `lines`. */
export function lineSink(lines: string[]): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
}

/** A destination for pino that appends every record written to it, parsed, to `records`. */
export function recordSink(records: LogRecord[]): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) records.push(JSON.parse(l) as LogRecord);
      done();
    },
  });
}
