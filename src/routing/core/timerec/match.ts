import { daysInMonth, daysInYear, isoWeeksInYear, mondayWeekIndex } from './calendar.js';
import { periodPosition, UNIT_SECONDS, type Recurrence, type TimerecNode } from './recurrence.js';
import { localTimeAt, type LocalTime } from './zone.js';

/**
 * Whether an instant falls in a recurrence. Allocation-free: the local time
 * comes from the zone's reused record, the checks are loops over the lists.
 */

export function nodeMatches(node: TimerecNode, epochMs: number): boolean {
  let result: boolean;
  if (node.kind === 'recurrence') {
    result = recurrenceMatches(node.recurrence, epochMs);
  } else if (node.kind === 'all') {
    result = true;
    for (const part of node.parts)
      if (!nodeMatches(part, epochMs)) {
        result = false;
        break;
      }
  } else {
    result = false;
    for (const part of node.parts)
      if (nodeMatches(part, epochMs)) {
        result = true;
        break;
      }
  }
  return result !== node.negated;
}

/** `epochMs` is whole seconds, as time_t is for the anchors. */
export function recurrenceMatches(rec: Recurrence, epochMs: number): boolean {
  if (epochMs < rec.startMs) return false;
  return rec.dialect === 'legacy' ? matchesLegacy(rec, epochMs) : matches32(rec, epochMs);
}

/** OpenSIPS 3.2+ `check_tmrec` (time_rec.c:1192-1225). */
function matches32(rec: Recurrence, epochMs: number): boolean {
  if (!rec.freq) return epochMs < rec.endMs;
  // until is inclusive (time_rec.c:1223; cfgutils test "the UNTIL component is inclusive").
  if (rec.untilMs !== null && epochMs > rec.untilMs) return false;
  const local = localTimeAt(rec.zone, epochMs);
  return intervalMatches(rec, local) && windowMatches32(rec, local) && byRulesMatch(rec, local);
}

/** OpenSIPS ≤ 3.1 `check_tmrec` (3.1:time_rec.c:911-962), Kamailio `dr_check_tmrec` (dr_time.c:878-925). */
function matchesLegacy(rec: Recurrence, epochMs: number): boolean {
  // No duration: forever from dtstart (`_IS_SET(x)` is x > 0).
  if (!rec.end) return true;
  // The first occurrence, end inclusive, whatever freq and byxxx say.
  if (epochMs <= rec.endMs) return true;
  if (rec.untilMs !== null && epochMs >= rec.untilMs) return false;
  if (!rec.freq) return false;
  const local = localTimeAt(rec.zone, epochMs);
  return intervalMatches(rec, local) && windowMatchesLegacy(rec, local) && byRulesMatch(rec, local);
}

/** time_rec.c `check_freq_interval`, counting calendar days (OpenSIPS divides mktime() seconds, a day short after a DST change). */
function intervalMatches(rec: Recurrence, local: Readonly<LocalTime>): boolean {
  if (rec.interval === 1) return true;
  const start = rec.start;
  let elapsed: number;
  switch (rec.freq) {
    case 'daily':
      elapsed = local.dayNumber - start.dayNumber;
      break;
    case 'weekly':
      elapsed = mondayWeekIndex(local.dayNumber) - mondayWeekIndex(start.dayNumber);
      break;
    case 'monthly':
      elapsed = (local.year - start.year) * 12 + local.month - start.month;
      break;
    default:
      elapsed = local.year - start.year;
  }
  return elapsed % rec.interval === 0;
}

/**
 * 3.2 `check_min_unit` / `check_recur_itv` (time_rec.c:1295-1448): the
 * window [dtstart, dtend) repeats every unit, placed by wall clock; it may
 * wrap (22:00–06:00, Friday–Monday). A window as long as the unit matches
 * all of it. The start is inclusive at every unit (OpenSIPS drops its first
 * second for weekly, monthly and yearly windows).
 */
function windowMatches32(rec: Recurrence, local: Readonly<LocalTime>): boolean {
  const unit = rec.unit;
  if (!unit) return false;
  if (rec.durationSeconds >= UNIT_SECONDS[unit]) return true;
  const at = periodPosition(unit, local.month, local.day, local.weekday, local.secondOfDay);
  const { windowFrom: from, windowTo: to } = rec;
  if (from < to) return at >= from && at < to;
  if (from > to) return at >= from || at < to;
  return rec.durationSeconds > 0;
}

/**
 * Legacy `check_min_unit` (3.1:time_rec.c:1032-1078): the day must be
 * dtstart's weekday / day of month / date as the unit says, and the time of
 * day in [dtstart's, + duration); the window stops at midnight.
 */
function windowMatchesLegacy(rec: Recurrence, local: Readonly<LocalTime>): boolean {
  const start = rec.start;
  switch (rec.unit) {
    case 'weekly':
      if (local.weekday !== start.weekday) return false;
      break;
    case 'monthly':
      if (local.day !== start.day) return false;
      break;
    case 'yearly':
      if (local.month !== start.month || local.day !== start.day) return false;
      break;
    default:
  }
  return local.secondOfDay >= start.secondOfDay && local.secondOfDay < start.secondOfDay + rec.durationSeconds;
}

/** `list` holds n (the nth) or -n (the nth from the end, of `count`). */
function listHolds(list: readonly number[], value: number, count: number): boolean {
  for (const item of list) {
    if (item === value || (item < 0 && count + 1 + item === value)) return true;
  }
  return false;
}

/**
 * The byxxx filters, in time_rec.c `check_byxxx` order. Both dialects use
 * the RFC 5545 meaning: the anchors are off by one in places (3.1 bymonth 1
 * is February; 3.2 byyearday -1 is 1 January, bymonthday 31 never matches).
 * byweekno counts ISO 8601 weeks (RFC 5545 with WKST=MO).
 */
function byRulesMatch(rec: Recurrence, local: Readonly<LocalTime>): boolean {
  if (rec.byMonth && !listHolds(rec.byMonth, local.month, 12)) return false;
  if (rec.byWeekNo && !isoWeekListed(rec.byWeekNo, local)) return false;
  if (rec.byYearDay && !listHolds(rec.byYearDay, local.dayOfYear, daysInYear(local.year))) return false;
  if (rec.byMonthDay && !listHolds(rec.byMonthDay, local.day, daysInMonth(local.year, local.month))) return false;
  if (rec.byDay) {
    const inMonth = rec.ordinalScope === 'month';
    const position = inMonth ? local.day : local.dayOfYear;
    const length = inMonth ? daysInMonth(local.year, local.month) : daysInYear(local.year);
    const nth = Math.floor((position - 1) / 7) + 1;
    const nthFromEnd = Math.floor((length - position) / 7) + 1;
    let listed = false;
    for (const { weekday, ordinal } of rec.byDay) {
      if (weekday === local.weekday && (ordinal === 0 || ordinal === nth || -ordinal === nthFromEnd)) {
        listed = true;
        break;
      }
    }
    if (!listed) return false;
  }
  return true;
}

function isoWeekListed(list: readonly number[], local: Readonly<LocalTime>): boolean {
  const isoWeekday = local.weekday === 0 ? 7 : local.weekday;
  let isoYear = local.year;
  let week = Math.floor((local.dayOfYear - isoWeekday + 10) / 7);
  if (week < 1) {
    isoYear -= 1;
    week = isoWeeksInYear(isoYear);
  } else if (week > isoWeeksInYear(isoYear)) {
    isoYear += 1;
    week = 1;
  }
  return listHolds(list, week, isoWeeksInYear(isoYear));
}
