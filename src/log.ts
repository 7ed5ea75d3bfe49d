import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON lines on stdout, one object per event (pino). */
export function createLogger(level: string): Logger {
  return pino({ level, base: { name: 'drouter' } });
}
