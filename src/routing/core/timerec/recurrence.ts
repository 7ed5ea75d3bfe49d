import type { Weekday } from './calendar.js';
import type { WallClock } from './datetime.js';
import type { Zone } from './zone.js';

export type TimerecDialect = 'opensips-3.2' | 'legacy';

export type Freq = 'daily' | 'weekly' | 'monthly' | 'yearly';

/** One byday item: `MO` (ordinal 0), `+1MO` (ordinal 1), `-1FR` (ordinal -1). */
export interface ByDay {
  readonly weekday: Weekday;
  readonly ordinal: number;
}

/** One parsed recurrence (`dtstart|dtend|duration|freq|…`), ready to match. */
export interface Recurrence {
  readonly dialect: TimerecDialect;
  readonly zone: Zone;
  readonly start: WallClock;
  readonly startMs: number;
  /**
   * End of the first window (3.2: exclusive; legacy: inclusive). Null when
   * the recurrence never ends: no freq and no end on 3.2, no duration on legacy.
   */
  readonly end: WallClock | null;
  readonly endMs: number;
  /** Wall-clock length of each window; Infinity when `end` is null. */
  readonly durationSeconds: number;
  readonly freq: Freq | null;
  /** 3.2: the last instant that may match. Legacy: until + duration, the first that may not. */
  readonly untilMs: number | null;
  readonly interval: number;
  /** The smallest unit freq and the byxxx fields name: it sets the window's period (time_rec.c `get_min_interval`). */
  readonly unit: Freq | null;
  /** 3.2: the window's start and end as positions within one period of `unit` (see `periodPosition`). */
  readonly windowFrom: number;
  readonly windowTo: number;
  /** What byday ordinals count in: weekdays of the month, or of the year. */
  readonly ordinalScope: 'month' | 'year';
  readonly byDay: readonly ByDay[] | null;
  readonly byMonthDay: readonly number[] | null;
  readonly byYearDay: readonly number[] | null;
  readonly byWeekNo: readonly number[] | null;
  readonly byMonth: readonly number[] | null;
}

/** A 3.2 expression: recurrences joined by `&` (all) or `/` (any), each part possibly negated with `!`. */
export type TimerecNode =
  | { readonly kind: 'recurrence'; readonly recurrence: Recurrence; readonly negated: boolean }
  | { readonly kind: 'all' | 'any'; readonly parts: readonly TimerecNode[]; readonly negated: boolean };

export const UNIT_SECONDS: Readonly<Record<Freq, number>> = {
  daily: 86_400,
  weekly: 7 * 86_400,
  // OpenSIPS compares with the longest month and year (SEC_MONTHLY_MAX, SEC_YEARLY_MAX).
  monthly: 31 * 86_400,
  yearly: 366 * 86_400,
};

/**
 * Seconds into the period of `unit` at which a wall-clock time falls:
 * time of day, weekday, day of month, or month and day (not day of year, so
 * a yearly window keeps its calendar dates in leap years).
 */
export function periodPosition(unit: Freq, month: number, day: number, weekday: Weekday, secondOfDay: number): number {
  switch (unit) {
    case 'daily':
      return secondOfDay;
    case 'weekly':
      return weekday * 86_400 + secondOfDay;
    case 'monthly':
      return day * 86_400 + secondOfDay;
    case 'yearly':
      return (month * 32 + day) * 86_400 + secondOfDay;
  }
}
