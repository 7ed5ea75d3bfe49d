import {
  civilFromDays,
  daysFromCivil,
  daysInMonth,
  MS_PER_DAY,
  MS_PER_SECOND,
  weekdayOf,
  type Weekday,
} from './calendar.js';

/**
 * The `YYYYMMDDThhmmss` date-times of dtstart, dtend and until: local time
 * in the recurrence's zone, exactly 15 characters, year ≥ 1970
 * (OpenSIPS `ic_parse_datetime`, time_rec.c:765-794). OpenSIPS reads the
 * characters without checking them and lets mktime() normalise 31 November
 * or second 60; here every part is checked.
 */

/** A wall-clock time, counted in milliseconds as if the wall clock were UTC. */
export interface WallClock {
  readonly wallMs: number;
  readonly dayNumber: number;
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly weekday: Weekday;
  readonly secondOfDay: number;
}

export const DATE_TIME_SHAPE = 'YYYYMMDDThhmmss';

/** The wall clock of a 15-character date-time, or why the text is not one. */
export function parseDateTime(text: string): { ok: true; wallClock: WallClock } | { ok: false; error: string } {
  const parts = /^(\d{4})(\d{2})(\d{2})[Tt](\d{2})(\d{2})(\d{2})$/.exec(text);
  if (!parts) return { ok: false, error: `expected a date-time ${DATE_TIME_SHAPE} (15 characters, local time)` };
  const [year, month, day, hour, minute, second] = parts.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (year < 1970) return { ok: false, error: `year ${year} is before 1970` };
  if (month < 1 || month > 12) return { ok: false, error: `month ${parts[2]} is not 01-12` };
  const monthLength = daysInMonth(year, month);
  if (day < 1 || day > monthLength)
    return { ok: false, error: `day ${parts[3]} is not 01-${monthLength} in ${parts[1]}-${parts[2]}` };
  if (hour > 23) return { ok: false, error: `hour ${parts[4]} is not 00-23` };
  if (minute > 59) return { ok: false, error: `minute ${parts[5]} is not 00-59` };
  if (second > 59) return { ok: false, error: `second ${parts[6]} is not 00-59` };
  const wallMs = daysFromCivil(year, month, day) * MS_PER_DAY + ((hour * 60 + minute) * 60 + second) * MS_PER_SECOND;
  return { ok: true, wallClock: wallClockAt(wallMs) };
}

/** The calendar fields of a wall-clock time. */
export function wallClockAt(wallMs: number): WallClock {
  const dayNumber = Math.floor(wallMs / MS_PER_DAY);
  const date = { year: 0, month: 0, day: 0 };
  civilFromDays(dayNumber, date);
  return {
    wallMs,
    dayNumber,
    ...date,
    weekday: weekdayOf(dayNumber),
    secondOfDay: Math.floor((wallMs - dayNumber * MS_PER_DAY) / MS_PER_SECOND),
  };
}

/** 1970-01-01T000000, which OpenSIPS 3.2 uses when dtstart is empty (time_rec.c `_tmrec_parse`). */
export const EPOCH_WALL_CLOCK = wallClockAt(0);
