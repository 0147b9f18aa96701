/** A logger whose records a test reads back: for events the proxy only logs (a refused reload, a dropped record). */
import pino, { type Logger } from 'pino';

/** One JSON log record. */
export type LogRecord = Record<string, unknown> & { msg?: string };

/** A pino logger at `level` that keeps every record it writes in `records`, in order. */
export function capturedLogger(level = 'info'): { log: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const log = pino({ level }, { write: (line: string) => records.push(JSON.parse(line) as LogRecord) });
  return { log, records };
}
