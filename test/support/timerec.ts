import { parseTimerec, type TimerecDialect } from '../../src/routing/core/timerec/index.js';

export const V32 = 'opensips-3.2' as const;
export const LEGACY = 'legacy' as const;

/** One pinned case of a table-driven timerec test. */
export interface TimerecRow {
  rule: string;
  timerec: string;
  /** An instant in UTC, ISO-8601. */
  at: string;
  expected: boolean;
}

/** Parses (the parse must succeed) and evaluates at one instant. */
export function timerecMatches(timerec: string, dialect: TimerecDialect, at: string, defaultTimeZone = 'UTC'): boolean {
  const parsed = parseTimerec(timerec, { dialect, defaultTimeZone });
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.timerec.matches(new Date(at));
}

/** A case that names its dialect. */
export type DialectRow = TimerecRow & { dialect: TimerecDialect };
