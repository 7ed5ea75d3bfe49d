/**
 * Proleptic Gregorian calendar arithmetic on day numbers (days since
 * 1970-01-01), with no Date objects, so the match path allocates nothing.
 */

export const MS_PER_SECOND = 1_000;
export const SECONDS_PER_DAY = 86_400;
export const MS_PER_DAY = SECONDS_PER_DAY * MS_PER_SECOND;

/** 0 = Sunday … 6 = Saturday, as struct tm's tm_wday. */
export type Weekday = 0 | 1 | 2 | 3 | 4 | 5 | 6;

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInYear(year: number): number {
  return isLeapYear(year) ? 366 : 365;
}

const MONTH_LENGTHS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/** `month` is 1–12. */
export function daysInMonth(year: number, month: number): number {
  if (month === 2 && isLeapYear(year)) return 29;
  return MONTH_LENGTHS[month - 1] ?? 31;
}

/** Day number of a calendar date; `month` is 1–12 (Hinnant's days_from_civil). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const monthFromMarch = month > 2 ? month - 3 : month + 9;
  const dayOfYear = Math.floor((153 * monthFromMarch + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

export interface CivilDate {
  year: number;
  /** 1–12 */
  month: number;
  /** 1–31 */
  day: number;
}

/** Writes the calendar date of a day number into `out` (Hinnant's civil_from_days). */
export function civilFromDays(dayNumber: number, out: CivilDate): void {
  const z = dayNumber + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153);
  out.day = dayOfYear - Math.floor((153 * monthFromMarch + 2) / 5) + 1;
  out.month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9;
  out.year = yearOfEra + era * 400 + (out.month <= 2 ? 1 : 0);
}

export function weekdayOf(dayNumber: number): Weekday {
  // 1970-01-01 was a Thursday.
  return ((((dayNumber + 4) % 7) + 7) % 7) as Weekday;
}

/** Index of the Monday-started week holding the day (week 0 began Monday 1969-12-29). */
export function mondayWeekIndex(dayNumber: number): number {
  return Math.floor((dayNumber + 3) / 7);
}

/** ISO 8601 weeks in a year: 53 when 1 January is a Thursday, or a Wednesday in a leap year. */
export function isoWeeksInYear(year: number): number {
  const jan1 = weekdayOf(daysFromCivil(year, 1, 1));
  return jan1 === 4 || (jan1 === 3 && isLeapYear(year)) ? 53 : 52;
}
