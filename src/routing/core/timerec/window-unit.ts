import { daysFromCivil, MS_PER_DAY } from './calendar.js';
import type { WallClock } from './datetime.js';
import type { ByDay, Freq } from './recurrence.js';

/** time_rec.c `get_min_interval`: a day-level byxxx makes daily windows, byweekno weekly, bymonth monthly. */
export function unitOf(
  freq: Freq | null,
  byDay: readonly ByDay[] | null,
  byMonthDay: readonly number[] | null,
  byYearDay: readonly number[] | null,
  byWeekNo: readonly number[] | null,
  byMonth: readonly number[] | null,
): Freq | null {
  if (!freq) return null;
  if (freq === 'daily' || byDay || byMonthDay || byYearDay) return 'daily';
  if (freq === 'weekly' || byWeekNo) return 'weekly';
  if (freq === 'monthly' || byMonth) return 'monthly';
  return 'yearly';
}

/**
 * 3.2 with freq but neither dtend nor duration: the window runs to the end
 * of the unit (time_rec.c:1592-1621). The week ends on Saturday night as
 * there (tm_wday counts from Sunday); the month ends on its last day, where
 * OpenSIPS stops at dtstart + 31 days − mday, a day or more short.
 */
export function endOfPeriod(start: WallClock, unit: Freq): number {
  let dayNumber: number;
  switch (unit) {
    case 'daily':
      dayNumber = start.dayNumber + 1;
      break;
    case 'weekly':
      dayNumber = start.dayNumber + 7 - start.weekday;
      break;
    case 'monthly':
      dayNumber =
        start.month === 12 ? daysFromCivil(start.year + 1, 1, 1) : daysFromCivil(start.year, start.month + 1, 1);
      break;
    case 'yearly':
      dayNumber = daysFromCivil(start.year + 1, 1, 1);
      break;
  }
  return dayNumber * MS_PER_DAY;
}
