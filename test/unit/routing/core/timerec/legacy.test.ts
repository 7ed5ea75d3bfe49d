import { describe, expect, it } from 'vitest';
import { timerecMatches, type TimerecRow } from '../../../../support/timerec.js';

/**
 * The legacy dialect (OpenSIPS ≤ 3.1 `check_tmrec`, Kamailio `dr_check_tmrec`):
 * dtstart|duration|freq|until|interval|byday|bymonthday|byyearday|byweekno|bymonth.
 * Rows: (rule pinned, timerec, instant in UTC, expected). Default zone UTC.
 */

const WEEKDAYS = '20040101T083000|10H|weekly|||MO,TU,WE,TH,FR';

const rows: TimerecRow[] = [
  // The anchors' "Rule 1": weekdays 08:30–18:30. 2004-01-01 is a Thursday.
  {
    rule: 'weekday 08:30-18:30: before dtstart never matches',
    timerec: WEEKDAYS,
    at: '2004-01-01T08:29:59Z',
    expected: false,
  },
  { rule: 'weekday 08:30-18:30: dtstart is inclusive', timerec: WEEKDAYS, at: '2004-01-01T08:30:00Z', expected: true },
  {
    rule: 'weekday 08:30-18:30: first occurrence, end-1s',
    timerec: WEEKDAYS,
    at: '2004-01-01T18:29:59Z',
    expected: true,
  },
  {
    rule: 'weekday 08:30-18:30: first occurrence end (dtstart+duration) is inclusive',
    timerec: WEEKDAYS,
    at: '2004-01-01T18:30:00Z',
    expected: true,
  },
  {
    rule: 'weekday 08:30-18:30: first occurrence, end+1s',
    timerec: WEEKDAYS,
    at: '2004-01-01T18:30:01Z',
    expected: false,
  },
  {
    rule: 'weekday 08:30-18:30: later occurrence, start-1s',
    timerec: WEEKDAYS,
    at: '2026-03-03T08:29:59Z',
    expected: false,
  },
  {
    rule: 'weekday 08:30-18:30: later occurrence, start',
    timerec: WEEKDAYS,
    at: '2026-03-03T08:30:00Z',
    expected: true,
  },
  {
    rule: 'weekday 08:30-18:30: later occurrence, end-1s',
    timerec: WEEKDAYS,
    at: '2026-03-03T18:29:59Z',
    expected: true,
  },
  {
    rule: 'weekday 08:30-18:30: later occurrences end exclusive',
    timerec: WEEKDAYS,
    at: '2026-03-03T18:30:00Z',
    expected: false,
  },
  {
    rule: 'weekday 08:30-18:30: later occurrence, end+1s',
    timerec: WEEKDAYS,
    at: '2026-03-03T18:30:01Z',
    expected: false,
  },
  {
    rule: 'weekday 08:30-18:30: Saturday is filtered by byday',
    timerec: WEEKDAYS,
    at: '2026-03-07T12:00:00Z',
    expected: false,
  },
  { rule: 'weekday 08:30-18:30: Friday matches', timerec: WEEKDAYS, at: '2026-03-06T12:00:00Z', expected: true },

  // 2004-01-03 is a Saturday: the first occurrence ignores byday.
  {
    rule: 'first occurrence matches regardless of byday',
    timerec: '20040103T083000|10H|weekly|||MO,TU,WE,TH,FR',
    at: '2004-01-03T12:00:00Z',
    expected: true,
  },
  {
    rule: 'the next Saturday is filtered by byday',
    timerec: '20040103T083000|10H|weekly|||MO,TU,WE,TH,FR',
    at: '2004-01-10T12:00:00Z',
    expected: false,
  },

  // _IS_SET(x) is x > 0: no duration means forever.
  { rule: 'no duration: forever from dtstart', timerec: '20040101T083000', at: '2099-06-01T03:00:00Z', expected: true },
  { rule: 'no duration: not before dtstart', timerec: '20040101T083000', at: '2004-01-01T08:29:59Z', expected: false },
  {
    rule: 'zero duration 0H: forever from dtstart',
    timerec: '20040101T083000|0H',
    at: '2030-01-01T00:00:00Z',
    expected: true,
  },
  { rule: 'empty dtstart: from 1970-01-01', timerec: '|0H', at: '1970-01-01T00:00:00Z', expected: true },

  // Without freq only the first occurrence exists.
  {
    rule: 'no freq: p30d window end is inclusive',
    timerec: '20121101T000000|p30d',
    at: '2012-12-01T00:00:00Z',
    expected: true,
  },
  {
    rule: 'no freq: one second after the window',
    timerec: '20121101T000000|p30d',
    at: '2012-12-01T00:00:01Z',
    expected: false,
  },
  {
    rule: 'no-freq window start edge (cfgutils vector)',
    timerec: '20200605T115135|PT11H8M25S',
    at: '2020-06-05T11:51:35Z',
    expected: true,
  },
  {
    rule: 'no-freq window ends inclusive at 23:00:00',
    timerec: '20200605T115135|PT11H8M25S',
    at: '2020-06-05T23:00:00Z',
    expected: true,
  },
  {
    rule: 'no-freq window, end+1s',
    timerec: '20200605T115135|PT11H8M25S',
    at: '2020-06-05T23:00:01Z',
    expected: false,
  },

  // until: no match from until + duration on (3.1:time_rec.c:947).
  {
    rule: 'until: a day before until matches',
    timerec: '20040101T083000|10H|daily|20040110T083000',
    at: '2004-01-09T12:00:00Z',
    expected: true,
  },
  {
    rule: 'until: until + duration - 1s still matches',
    timerec: '20040101T083000|10H|daily|20040110T083000',
    at: '2004-01-10T18:29:59Z',
    expected: true,
  },
  {
    rule: 'until: the occurrence starting at until matches',
    timerec: '20040101T083000|10H|daily|20040110T083000',
    at: '2004-01-10T12:00:00Z',
    expected: true,
  },
  {
    rule: 'until: the day after until is out',
    timerec: '20040101T083000|10H|daily|20040110T083000',
    at: '2004-01-11T09:00:00Z',
    expected: false,
  },
  {
    rule: 'until: until + duration exclusive bounds a later-starting window',
    timerec: '20040101T083000|10H|daily|20040110T000000',
    at: '2004-01-10T09:59:59Z',
    expected: true,
  },
  {
    rule: 'until: until + duration is the first instant out',
    timerec: '20040101T083000|10H|daily|20040110T000000',
    at: '2004-01-10T10:00:00Z',
    expected: false,
  },

  // Windows stop at midnight (v1 < v0 + duration on the time of day).
  {
    rule: 'daily 22:00+8H: 23:59:59 matches',
    timerec: '20260101T220000|8H|daily',
    at: '2026-03-03T23:59:59Z',
    expected: true,
  },
  {
    rule: 'daily 22:00+8H: the window does not cross midnight',
    timerec: '20260101T220000|8H|daily',
    at: '2026-03-04T01:00:00Z',
    expected: false,
  },
  {
    rule: 'daily 22:00+8H: the first occurrence does cross midnight, end inclusive',
    timerec: '20260101T220000|8H|daily',
    at: '2026-01-02T06:00:00Z',
    expected: true,
  },

  // Weekly/monthly/yearly without byxxx: the day must be dtstart's.
  {
    rule: 'weekly: only on dtstart weekday',
    timerec: '20260105T090000|8H|weekly',
    at: '2026-03-02T10:00:00Z',
    expected: true,
  },
  {
    rule: 'weekly: not on another weekday',
    timerec: '20260105T090000|8H|weekly',
    at: '2026-03-03T10:00:00Z',
    expected: false,
  },
  {
    rule: 'monthly: only on dtstart day of month',
    timerec: '20260115T090000|8H|monthly',
    at: '2026-04-15T16:59:59Z',
    expected: true,
  },
  {
    rule: 'monthly: not on another day',
    timerec: '20260115T090000|8H|monthly',
    at: '2026-04-16T10:00:00Z',
    expected: false,
  },
  {
    rule: 'yearly: only on dtstart month and day',
    timerec: '20260704T000000|24H|yearly',
    at: '2030-07-04T12:00:00Z',
    expected: true,
  },
  {
    rule: 'yearly: not the next day',
    timerec: '20260704T000000|24H|yearly',
    at: '2030-07-05T12:00:00Z',
    expected: false,
  },

  // Kamailio tmrec docs.
  {
    rule: 'Kamailio weekend PT24H',
    timerec: '20120101T000000|PT24H|weekly|||SA,SU',
    at: '2026-03-08T23:59:59Z',
    expected: true,
  },
  {
    rule: 'Kamailio weekend PT24H: Monday out',
    timerec: '20120101T000000|PT24H|weekly|||SA,SU',
    at: '2026-03-09T00:00:00Z',
    expected: false,
  },
  {
    rule: 'issue #1536 PT23H59M59S Mondays: 23:59:58',
    timerec: '20000101T000000|PT23H59M59S|weekly|||MO',
    at: '2026-03-09T23:59:58Z',
    expected: true,
  },
  {
    rule: 'issue #1536 PT23H59M59S Mondays: 23:59:59 is out',
    timerec: '20000101T000000|PT23H59M59S|weekly|||MO',
    at: '2026-03-09T23:59:59Z',
    expected: false,
  },
];

describe('timerec, legacy dialect', () => {
  it.each(rows)('$rule ($at → $expected)', ({ timerec, at, expected }) => {
    expect(timerecMatches(timerec, 'legacy', at)).toBe(expected);
  });

  it('reads date-times in the default zone (no timezone field)', () => {
    // 09:00-17:00 New York, daily: 13:00Z-21:00Z in summer.
    expect([
      timerecMatches('20260101T090000|8H|daily', 'legacy', '2026-07-15T12:59:59Z', 'America/New_York'),
      timerecMatches('20260101T090000|8H|daily', 'legacy', '2026-07-15T13:00:00Z', 'America/New_York'),
      timerecMatches('20260101T090000|8H|daily', 'legacy', '2026-07-15T20:59:59Z', 'America/New_York'),
      timerecMatches('20260101T090000|8H|daily', 'legacy', '2026-07-15T21:00:00Z', 'America/New_York'),
    ]).toEqual([false, true, true, false]);
  });
});
