import type { Weekday } from './calendar.js';
import type { ByDay } from './recurrence.js';

/**
 * The comma lists of byday, bymonthday, byyearday, byweekno and bymonth
 * (OpenSIPS `ic_parse_byday` / `ic_parse_byxxx`, time_rec.c:903-1100).
 * OpenSIPS skips blanks and reads an empty item as 0, which matches nothing
 * or the wrong day; here an empty, zero or out-of-range item is an error.
 */

const WEEKDAYS = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'] as const;

export function weekdayName(weekday: Weekday): string {
  return WEEKDAYS[weekday];
}

export const BYDAY_SHAPE = `[+|-][n]DD with DD one of ${WEEKDAYS.join(', ')}`;

type ListParse<T> = { ok: true; items: readonly T[] } | { ok: false; error: string };

function items(text: string): string[] {
  return text.split(',').map((item) => item.trim());
}

export function parseByDay(text: string): ListParse<ByDay> {
  const parsed: ByDay[] = [];
  for (const item of items(text)) {
    const match = /^([+-]?)(\d{1,2})?([a-z]{2})$/i.exec(item);
    const weekday = match ? WEEKDAYS.indexOf((match[3] ?? '').toUpperCase() as (typeof WEEKDAYS)[number]) : -1;
    if (!match || weekday < 0 || (match[1] !== '' && match[2] === undefined)) {
      return { ok: false, error: `"${item}" is not ${BYDAY_SHAPE}` };
    }
    const size = Number(match[2] ?? 0);
    if (match[2] !== undefined && size === 0) return { ok: false, error: `the ordinal of "${item}" must not be 0` };
    parsed.push({ weekday: weekday as Weekday, ordinal: match[1] === '-' ? -size : size });
  }
  return { ok: true, items: parsed };
}

/** Signed whole numbers 1…max or -max…-1 (negative counts from the end). */
export function parseNumberList(text: string, max: number): ListParse<number> {
  const parsed: number[] = [];
  for (const item of items(text)) {
    const value = /^[+-]?\d{1,3}$/.test(item) ? Number(item) : Number.NaN;
    if (!(value !== 0 && Math.abs(value) <= max)) {
      return { ok: false, error: `"${item}" is not 1 to ${max} or -${max} to -1` };
    }
    parsed.push(value);
  }
  return { ok: true, items: parsed };
}
