import { pino, type Logger } from 'pino';

export interface CapturedLog {
  log: Logger;
  /** Every line logged so far, parsed (pino's JSON: msg, level, and the fields given). */
  lines: Record<string, unknown>[];
  /** The messages (`msg`) so far. */
  messages: () => string[];
}

/** A real pino logger at debug level that keeps its lines for the test to read. */
export function captureLog(): CapturedLog {
  const lines: Record<string, unknown>[] = [];
  const log = pino(
    { level: 'debug' },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { log, lines, messages: () => lines.map((line) => String(line.msg)) };
}
