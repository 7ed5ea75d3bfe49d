import { describe, expect, it } from 'vitest';
import { timerecMatches, type TimerecRow } from '../../../../support/timerec.js';

/**
 * The opensips-3.2 dialect, one recurrence (time_rec.c `check_tmrec`):
 * [timezone|]dtstart|dtend|duration|freq|until|interval|byday|bymonthday|byyearday|byweekno|bymonth.
 * Rows: (rule pinned, timerec, instant in UTC, expected). Default zone UTC.
 * Vectors marked "cfgutils" come from OpenSIPS modules/cfgutils/test/cfgutils.c,
 * whose `now` is 2020-06-05T11:51:35Z (a Friday).
 */

const WEEKDAYS = '20040101T083000||10H|weekly|||MO,TU,WE,TH,FR';
const NOW = '2020-06-05T11:51:35Z';

const rows: TimerecRow[] = [
  // The legacy "Rule 1" ported: an empty dtend inserted. 2004-01-01 is a Thursday.
  { rule: 'weekday 08:30-18:30: start-1s', timerec: WEEKDAYS, at: '2004-01-01T08:29:59Z', expected: false },
  { rule: 'weekday 08:30-18:30: start inclusive', timerec: WEEKDAYS, at: '2004-01-01T08:30:00Z', expected: true },
  { rule: 'weekday 08:30-18:30: end-1s', timerec: WEEKDAYS, at: '2004-01-01T18:29:59Z', expected: true },
  {
    rule: 'weekday 08:30-18:30: end exclusive, also on the first occurrence',
    timerec: WEEKDAYS,
    at: '2004-01-01T18:30:00Z',
    expected: false,
  },
  { rule: 'weekday 08:30-18:30: end+1s', timerec: WEEKDAYS, at: '2004-01-01T18:30:01Z', expected: false },
  { rule: 'weekday 08:30-18:30: a later Tuesday', timerec: WEEKDAYS, at: '2026-03-03T12:00:00Z', expected: true },
  { rule: 'weekday 08:30-18:30: Saturday filtered', timerec: WEEKDAYS, at: '2026-03-07T12:00:00Z', expected: false },
  {
    rule: 'issue #2616 8H weekdays: 15:59:59',
    timerec: '20210104T080000||8H|WEEKLY|||MO,TU,WE,TH,FR',
    at: '2026-03-03T15:59:59Z',
    expected: true,
  },
  {
    rule: 'issue #2616 8H weekdays: 16:00 out',
    timerec: '20210104T080000||8H|WEEKLY|||MO,TU,WE,TH,FR',
    at: '2026-03-03T16:00:00Z',
    expected: false,
  },

  // No freq: one window [dtstart, dtend).
  {
    rule: 'Bucharest year 2012: start (00:00 EET = 22:00Z)',
    timerec: 'Europe/Bucharest|20120101T000000|20130101T000000',
    at: '2011-12-31T22:00:00Z',
    expected: true,
  },
  {
    rule: 'Bucharest year 2012: start-1s',
    timerec: 'Europe/Bucharest|20120101T000000|20130101T000000',
    at: '2011-12-31T21:59:59Z',
    expected: false,
  },
  {
    rule: 'Bucharest year 2012: end-1s',
    timerec: 'Europe/Bucharest|20120101T000000|20130101T000000',
    at: '2012-12-31T21:59:59Z',
    expected: true,
  },
  {
    rule: 'Bucharest year 2012: end exclusive',
    timerec: 'Europe/Bucharest|20120101T000000|20130101T000000',
    at: '2012-12-31T22:00:00Z',
    expected: false,
  },
  { rule: 'p30d: inside', timerec: '20121101T000000||p30d', at: '2012-11-30T23:59:59Z', expected: true },
  { rule: 'p30d: end exclusive', timerec: '20121101T000000||p30d', at: '2012-12-01T00:00:00Z', expected: false },
  { rule: 'dtstart inclusive (cfgutils)', timerec: 'UTC|20200605T115135|20200605T230000', at: NOW, expected: true },
  {
    rule: 'dtstart one second later (cfgutils)',
    timerec: 'UTC|20200605T115136|20200605T230000',
    at: NOW,
    expected: false,
  },
  { rule: 'dtend exclusive (cfgutils)', timerec: 'UTC|20200101T000000|20200605T115135', at: NOW, expected: false },
  {
    rule: 'dtend one second later (cfgutils)',
    timerec: 'UTC|20200101T000000|20200605T115136',
    at: NOW,
    expected: true,
  },
  {
    rule: 'dtend equal to dtstart never matches (cfgutils _0)',
    timerec: 'UTC|20200605T115135|20200605T115135',
    at: NOW,
    expected: false,
  },
  { rule: 'dtstart alone: forever', timerec: '20040101T083000', at: '2099-01-01T00:00:00Z', expected: true },
  {
    rule: 'an empty first field is the zone slot: |X is dtstart X (cfgutils)',
    timerec: '|20200605T115135',
    at: NOW,
    expected: true,
  },
  {
    rule: 'an empty first field is the zone slot: not before X (cfgutils)',
    timerec: '|20200605T115136',
    at: NOW,
    expected: false,
  },
  {
    rule: 'empty dtstart is 1970-01-01: ||dtend matches before dtend (cfgutils)',
    timerec: '||20200605T115136',
    at: NOW,
    expected: true,
  },
  {
    rule: 'empty dtstart is 1970-01-01: ||dtend, at dtend',
    timerec: '||20200605T115136',
    at: '2020-06-05T11:51:36Z',
    expected: false,
  },

  // A duration of zero: the window never opens (legacy: forever).
  {
    rule: 'zero duration, no freq: never, even at dtstart',
    timerec: '20040101T083000||0H',
    at: '2004-01-01T08:30:00Z',
    expected: false,
  },
  {
    rule: 'zero duration, daily: never',
    timerec: '20040101T083000||PT0S|daily',
    at: '2026-03-03T08:30:00Z',
    expected: false,
  },

  // until is inclusive.
  {
    rule: 'until: the day before',
    timerec: '20040101T083000||10H|daily|20040110T083000',
    at: '2004-01-09T12:00:00Z',
    expected: true,
  },
  {
    rule: 'until: at until (inclusive)',
    timerec: '20040101T083000||10H|daily|20040110T083000',
    at: '2004-01-10T08:30:00Z',
    expected: true,
  },
  {
    rule: 'until: until+1s, though inside the window',
    timerec: '20040101T083000||10H|daily|20040110T083000',
    at: '2004-01-10T08:30:01Z',
    expected: false,
  },
  {
    rule: 'until inclusive (cfgutils)',
    timerec: 'UTC|20200101T000000|||YEARLY|20200605T115135||||157',
    at: NOW,
    expected: true,
  },
  {
    rule: 'until one second earlier (cfgutils)',
    timerec: 'UTC|20200101T000000|||YEARLY|20200605T115134||||157',
    at: NOW,
    expected: false,
  },

  // Daily windows may cross midnight.
  {
    rule: 'daily 22:00-06:00: start',
    timerec: '20260101T220000||8H|daily',
    at: '2026-03-03T22:00:00Z',
    expected: true,
  },
  {
    rule: 'daily 22:00-06:00: start-1s',
    timerec: '20260101T220000||8H|daily',
    at: '2026-03-03T21:59:59Z',
    expected: false,
  },
  {
    rule: 'daily 22:00-06:00: after midnight',
    timerec: '20260101T220000||8H|daily',
    at: '2026-03-04T00:00:00Z',
    expected: true,
  },
  {
    rule: 'daily 22:00-06:00: end-1s',
    timerec: '20260101T220000||8H|daily',
    at: '2026-03-04T05:59:59Z',
    expected: true,
  },
  {
    rule: 'daily 22:00-06:00: end exclusive',
    timerec: '20260101T220000||8H|daily',
    at: '2026-03-04T06:00:00Z',
    expected: false,
  },
  {
    rule: 'daily window across midnight, end exclusive (cfgutils)',
    timerec: 'Europe/Bucharest|19981231T145136|19990101T145135||DAILY',
    at: NOW,
    expected: false,
  },
  {
    rule: 'daily window across midnight, inside (cfgutils)',
    timerec: 'Europe/Bucharest|19981231T145137|19990101T145136||DAILY',
    at: NOW,
    expected: true,
  },
  {
    rule: 'daily window of a day or more matches all day (cfgutils)',
    timerec: 'Europe/Bucharest|19981230T235959|19990101T145135||DAILY',
    at: NOW,
    expected: true,
  },

  // Weekly, monthly, yearly windows span dtstart..dtend within the unit, start inclusive.
  {
    rule: 'weekly Fri 18:00-Mon 08:00: Friday 18:00 inclusive',
    timerec: '20260102T180000|20260105T080000||weekly',
    at: '2026-03-06T18:00:00Z',
    expected: true,
  },
  {
    rule: 'weekly Fri 18:00-Mon 08:00: Friday 17:59:59',
    timerec: '20260102T180000|20260105T080000||weekly',
    at: '2026-03-06T17:59:59Z',
    expected: false,
  },
  {
    rule: 'weekly Fri 18:00-Mon 08:00: Saturday',
    timerec: '20260102T180000|20260105T080000||weekly',
    at: '2026-03-07T12:00:00Z',
    expected: true,
  },
  {
    rule: 'weekly Fri 18:00-Mon 08:00: Monday 07:59:59',
    timerec: '20260102T180000|20260105T080000||weekly',
    at: '2026-03-09T07:59:59Z',
    expected: true,
  },
  {
    rule: 'weekly Fri 18:00-Mon 08:00: Monday 08:00 exclusive',
    timerec: '20260102T180000|20260105T080000||weekly',
    at: '2026-03-09T08:00:00Z',
    expected: false,
  },
  {
    rule: 'weekly Fri 18:00-Mon 08:00: Wednesday',
    timerec: '20260102T180000|20260105T080000||weekly',
    at: '2026-03-04T12:00:00Z',
    expected: false,
  },
  {
    rule: 'weekly window over a week matches always (cfgutils)',
    timerec: 'Europe/Bucharest|19981220T235959|19990101T145135||WEEKLY',
    at: NOW,
    expected: true,
  },
  {
    rule: 'weekly Thu-Thu window (cfgutils)',
    timerec: 'Europe/Bucharest|20200109T145136|20200116T145135||WEEKLY',
    at: NOW,
    expected: true,
  },
  {
    rule: 'weekly Mon-Fri window, end exclusive (cfgutils)',
    timerec: 'Europe/Bucharest|20200106T235959|20200110T145135||WEEKLY',
    at: NOW,
    expected: false,
  },
  {
    rule: 'monthly 1st-5th window, end exclusive (cfgutils)',
    timerec: 'Europe/Bucharest|20200101T000000|20200105T145135||MONTHLY',
    at: NOW,
    expected: false,
  },
  {
    rule: 'monthly 1st-5th window, inside (cfgutils)',
    timerec: 'Europe/Bucharest|20200101T000000|20200105T145136||MONTHLY',
    at: NOW,
    expected: true,
  },
  {
    rule: 'yearly Dec 24-26: Dec 23 out, also in a leap year',
    timerec: '20191224T000000|20191227T000000||yearly',
    at: '2020-12-23T12:00:00Z',
    expected: false,
  },
  {
    rule: 'yearly Dec 24-26: Dec 24 00:00 in a leap year',
    timerec: '20191224T000000|20191227T000000||yearly',
    at: '2020-12-24T00:00:00Z',
    expected: true,
  },
  {
    rule: 'yearly Dec 24-26: Dec 26 23:59:59 in a leap year',
    timerec: '20191224T000000|20191227T000000||yearly',
    at: '2020-12-26T23:59:59Z',
    expected: true,
  },
  {
    rule: 'yearly Dec 24-26: Dec 27 out',
    timerec: '20191224T000000|20191227T000000||yearly',
    at: '2020-12-27T00:00:00Z',
    expected: false,
  },
  {
    rule: 'yearly window keeps month and day in leap years (OpenSIPS yday says no)',
    timerec: 'Europe/Bucharest|19990101T000000|19990606T145135||YEARLY',
    at: NOW,
    expected: true,
  },

  // Freq without dtend or duration: the window runs to the end of the unit.
  {
    rule: 'implied end, daily: 10:00 to midnight, start',
    timerec: '20260101T100000|||daily',
    at: '2026-03-03T10:00:00Z',
    expected: true,
  },
  {
    rule: 'implied end, daily: 09:59:59 out',
    timerec: '20260101T100000|||daily',
    at: '2026-03-03T09:59:59Z',
    expected: false,
  },
  {
    rule: 'implied end, daily: 23:59:59 in',
    timerec: '20260101T100000|||daily',
    at: '2026-03-03T23:59:59Z',
    expected: true,
  },
  {
    rule: 'implied end, weekly from Wed 10:00: Saturday night in',
    timerec: '20260107T100000|||weekly',
    at: '2026-03-07T23:59:59Z',
    expected: true,
  },
  {
    rule: 'implied end, weekly: the week ends on Saturday (tm_wday)',
    timerec: '20260107T100000|||weekly',
    at: '2026-03-08T00:00:00Z',
    expected: false,
  },
  {
    rule: 'implied end, weekly: Wednesday 09:59:59 out',
    timerec: '20260107T100000|||weekly',
    at: '2026-03-04T09:59:59Z',
    expected: false,
  },
  {
    rule: 'implied end, monthly from the 15th: the 31st is in',
    timerec: '20260115T100000|||monthly',
    at: '2026-03-31T23:59:59Z',
    expected: true,
  },
  {
    rule: 'implied end, monthly: the 1st is out',
    timerec: '20260115T100000|||monthly',
    at: '2026-04-01T00:00:00Z',
    expected: false,
  },
  {
    rule: 'implied end, monthly: the 15th 10:00 in',
    timerec: '20260115T100000|||monthly',
    at: '2026-04-15T10:00:00Z',
    expected: true,
  },
  {
    rule: 'implied end, yearly from Jul 1: Dec 31 in',
    timerec: '20260701T000000|||yearly',
    at: '2030-12-31T23:59:59Z',
    expected: true,
  },
  {
    rule: 'implied end, yearly: Jun 30 out',
    timerec: '20260701T000000|||yearly',
    at: '2030-06-30T12:00:00Z',
    expected: false,
  },
];

describe('timerec, opensips-3.2 dialect, one recurrence', () => {
  it.each(rows)('$rule ($at → $expected)', ({ timerec, at, expected }) => {
    expect(timerecMatches(timerec, 'opensips-3.2', at)).toBe(expected);
  });
});
