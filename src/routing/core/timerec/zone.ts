import { civilFromDays, daysFromCivil, MS_PER_DAY, MS_PER_SECOND, weekdayOf, type Weekday } from './calendar.js';

/**
 * Wall-clock time in a named zone, using only Intl. OpenSIPS gets the same
 * from setenv("TZ") + localtime_r/mktime around every check (time_rec.c
 * `_tz_set`, `ac_tm_set_time`); here the zone is data, nothing global moves.
 */

/** The wall-clock fields of one instant in one zone. */
export interface LocalTime {
  epochMs: number;
  /** Days since 1970-01-01 on the local calendar. */
  dayNumber: number;
  year: number;
  /** 1–12 */
  month: number;
  /** 1–31 */
  day: number;
  weekday: Weekday;
  /** 1–366 */
  dayOfYear: number;
  /** 0–86 399 */
  secondOfDay: number;
}

/** A zone resolved once at parse time; recurrences keep it, so matching does no lookup by name. */
export interface Zone {
  readonly name: string;
  readonly formatter: Intl.DateTimeFormat;
  /** [spanFromMs, spanToMs) is a range known to have offset spanOffsetMs. */
  spanFromMs: number;
  spanToMs: number;
  spanOffsetMs: number;
  /** The last instant asked for, reused while a lookup checks many rules at one time. */
  readonly last: LocalTime;
}

/**
 * Half-width of the range cached around an instant whose offset was read.
 * The offset is cached only when it is the same an hour before and after;
 * no zone changes its offset twice within an hour.
 */
const SPAN_MS = 3_600_000;

const zones = new Map<string, Zone>();

/** The zone of an IANA name (`Europe/London`, `UTC`), or null when Intl does not know it. */
export function zoneNamed(name: string): Zone | null {
  const known = zones.get(name);
  if (known) return known;
  let formatter: Intl.DateTimeFormat;
  try {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch (error) {
    if (error instanceof RangeError) return null;
    throw error;
  }
  const zone: Zone = {
    name,
    formatter,
    spanFromMs: 0,
    spanToMs: 0,
    spanOffsetMs: 0,
    last: { epochMs: Number.NaN, dayNumber: 0, year: 0, month: 0, day: 0, weekday: 0, dayOfYear: 0, secondOfDay: 0 },
  };
  zones.set(name, zone);
  return zone;
}

function offsetFromIntl(zone: Zone, epochMs: number): number {
  let year = 0;
  let month = 0;
  let day = 0;
  let hour = 0;
  let minute = 0;
  let second = 0;
  for (const part of zone.formatter.formatToParts(epochMs)) {
    const value = Number(part.value);
    if (part.type === 'year') year = value;
    else if (part.type === 'month') month = value;
    else if (part.type === 'day') day = value;
    else if (part.type === 'hour') hour = value === 24 ? 0 : value;
    else if (part.type === 'minute') minute = value;
    else if (part.type === 'second') second = value;
  }
  const wallMs = daysFromCivil(year, month, day) * MS_PER_DAY + ((hour * 60 + minute) * 60 + second) * MS_PER_SECOND;
  return wallMs - Math.floor(epochMs / MS_PER_SECOND) * MS_PER_SECOND;
}

/** Local wall clock minus UTC at an instant, in milliseconds. */
export function offsetAt(zone: Zone, epochMs: number): number {
  if (epochMs >= zone.spanFromMs && epochMs < zone.spanToMs) return zone.spanOffsetMs;
  const offset = offsetFromIntl(zone, epochMs);
  if (offsetFromIntl(zone, epochMs - SPAN_MS) === offset && offsetFromIntl(zone, epochMs + SPAN_MS) === offset) {
    zone.spanFromMs = epochMs - SPAN_MS;
    zone.spanToMs = epochMs + SPAN_MS;
    zone.spanOffsetMs = offset;
  }
  return offset;
}

/**
 * The wall-clock fields of an instant (whole seconds). The object returned
 * belongs to the zone and is overwritten by the next call for another
 * instant: read it at once, keep nothing.
 */
export function localTimeAt(zone: Zone, epochMs: number): Readonly<LocalTime> {
  const local = zone.last;
  if (local.epochMs === epochMs) return local;
  const wallMs = epochMs + offsetAt(zone, epochMs);
  const dayNumber = Math.floor(wallMs / MS_PER_DAY);
  civilFromDays(dayNumber, local);
  local.epochMs = epochMs;
  local.dayNumber = dayNumber;
  local.weekday = weekdayOf(dayNumber);
  local.dayOfYear = dayNumber - daysFromCivil(local.year, 1, 1) + 1;
  local.secondOfDay = Math.floor((wallMs - dayNumber * MS_PER_DAY) / MS_PER_SECOND);
  return local;
}

/**
 * The instant at which the zone's wall clock reads `wallMs` (a wall-clock
 * time counted as if it were UTC). Resolves the two DST cases as glibc
 * mktime() with tm_isdst = -1 (time/mktime.c `__mktime_internal`):
 * - a time inside a spring-forward gap is read with the offset before the
 *   gap, so 02:30 becomes 03:30 summer time (mktime's "oscillating between
 *   two values … prefer the tm_isdst one" branch);
 * - a time repeated by a fall-back is the first occurrence (summer time).
 *   glibc answers from the offset its previous call used (static
 *   `localtime_offset`), so no fixed rule exists to copy; the first
 *   occurrence is also RFC 5545 §3.3.5's choice.
 */
export function instantOfWallClock(zone: Zone, wallMs: number): number {
  const offsetBefore = offsetAt(zone, wallMs - MS_PER_DAY);
  const offsetAfter = offsetAt(zone, wallMs + MS_PER_DAY);
  const withBefore = wallMs - offsetBefore;
  const withAfter = wallMs - offsetAfter;
  const beforeFits = offsetAt(zone, withBefore) === offsetBefore;
  const afterFits = offsetAt(zone, withAfter) === offsetAfter;
  if (beforeFits && afterFits) return Math.min(withBefore, withAfter);
  if (afterFits) return withAfter;
  // beforeFits alone, or a gap (neither fits): the offset before the change.
  return withBefore;
}
