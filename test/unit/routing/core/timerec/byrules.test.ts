import { describe, expect, it } from 'vitest';
import { type DialectRow, LEGACY, timerecMatches, V32 } from '../../../../support/timerec.js';

/**
 * interval and the byxxx filters, in both dialects (same RFC 5545 meaning
 * in both; see match.ts for where the anchors are off by one).
 * Rows: (rule pinned, timerec, dialect, instant in UTC, expected). Default zone UTC.
 * "cfgutils" vectors: OpenSIPS modules/cfgutils/test/cfgutils.c, now = 2020-06-05T11:51:35Z.
 */

type Row = DialectRow;

const NOW = '2020-06-05T11:51:35Z';

const rows: Row[] = [
  // interval: every 2nd week from the week of dtstart (Monday 2026-01-05), weeks start on Monday.
  {
    rule: 'every 2nd week: week 2 matches',
    timerec: '20260105T090000||8H|weekly||2',
    dialect: V32,
    at: '2026-01-19T10:00:00Z',
    expected: true,
  },
  {
    rule: 'every 2nd week: week 1 does not',
    timerec: '20260105T090000||8H|weekly||2',
    dialect: V32,
    at: '2026-01-12T10:00:00Z',
    expected: false,
  },
  {
    rule: 'every 2nd week (legacy): week 2 matches',
    timerec: '20260105T090000|8H|weekly||2',
    dialect: LEGACY,
    at: '2026-01-19T10:00:00Z',
    expected: true,
  },
  {
    rule: 'every 2nd week (legacy): week 3 does not',
    timerec: '20260105T090000|8H|weekly||2',
    dialect: LEGACY,
    at: '2026-01-26T10:00:00Z',
    expected: false,
  },
  {
    rule: 'every 2nd week: Sunday Jan 11 is still week 0 (Monday weeks)',
    timerec: '20260105T090000||8H|weekly||2|SU',
    dialect: V32,
    at: '2026-01-11T10:00:00Z',
    expected: true,
  },
  {
    rule: 'every 2nd week: Sunday Jan 18 is week 1',
    timerec: '20260105T090000||8H|weekly||2|SU',
    dialect: V32,
    at: '2026-01-18T10:00:00Z',
    expected: false,
  },
  {
    rule: 'interval 12 is 12 weeks (OpenSIPS strz2int reads 1+2)',
    timerec: '20260105T090000|8H|weekly||12',
    dialect: LEGACY,
    at: '2026-03-30T10:00:00Z',
    expected: true,
  },
  {
    rule: 'interval 12: week 3 does not match',
    timerec: '20260105T090000|8H|weekly||12',
    dialect: LEGACY,
    at: '2026-01-26T10:00:00Z',
    expected: false,
  },
  {
    rule: 'every 3rd day counts calendar days',
    timerec: '20260101T090000||8H|daily||3',
    dialect: V32,
    at: '2026-01-04T10:00:00Z',
    expected: true,
  },
  {
    rule: 'every 3rd day: day 2 does not',
    timerec: '20260101T090000||8H|daily||3',
    dialect: V32,
    at: '2026-01-03T10:00:00Z',
    expected: false,
  },
  {
    rule: 'every 2nd month counts calendar months',
    timerec: '20260115T090000||8H|monthly||2',
    dialect: V32,
    at: '2026-03-15T10:00:00Z',
    expected: true,
  },
  {
    rule: 'every 2nd month: February does not',
    timerec: '20260115T090000||8H|monthly||2',
    dialect: V32,
    at: '2026-02-15T10:00:00Z',
    expected: false,
  },

  // byday ordinals with monthly (March 2026: Mondays 2, 9 …; Fridays 6 … 27).
  {
    rule: '+1MO monthly: the first Monday',
    timerec: '20260101T090000||8H|monthly|||+1MO',
    dialect: V32,
    at: '2026-03-02T10:00:00Z',
    expected: true,
  },
  {
    rule: '+1MO monthly: the second Monday does not',
    timerec: '20260101T090000||8H|monthly|||+1MO',
    dialect: V32,
    at: '2026-03-09T10:00:00Z',
    expected: false,
  },
  {
    rule: '-1FR monthly: the last Friday',
    timerec: '20260101T090000||8H|monthly|||-1FR',
    dialect: V32,
    at: '2026-03-27T10:00:00Z',
    expected: true,
  },
  {
    rule: '-1FR monthly: the one before does not',
    timerec: '20260101T090000||8H|monthly|||-1FR',
    dialect: V32,
    at: '2026-03-20T10:00:00Z',
    expected: false,
  },
  {
    rule: '-1FR monthly in a month of five Fridays (May 29)',
    timerec: '20260101T090000||8H|monthly|||-1FR',
    dialect: V32,
    at: '2026-05-29T10:00:00Z',
    expected: true,
  },
  {
    rule: '+5FR monthly: the fifth Friday',
    timerec: '20260101T090000||8H|monthly|||+5FR',
    dialect: V32,
    at: '2026-05-29T10:00:00Z',
    expected: true,
  },
  {
    rule: '+1MO monthly (legacy)',
    timerec: '20260101T090000|8H|monthly|||+1MO',
    dialect: LEGACY,
    at: '2026-03-02T10:00:00Z',
    expected: true,
  },
  {
    rule: '-1FR monthly (legacy): the last, not the one before as 3.1 computes',
    timerec: '20260101T090000|8H|monthly|||-1FR',
    dialect: LEGACY,
    at: '2026-05-29T10:00:00Z',
    expected: true,
  },
  {
    rule: '-1FR monthly (legacy): second to last does not',
    timerec: '20260101T090000|8H|monthly|||-1FR',
    dialect: LEGACY,
    at: '2026-05-22T10:00:00Z',
    expected: false,
  },
  {
    rule: '+2FR monthly (cfgutils next week)',
    timerec: 'UTC|19700101T000000|||MONTHLY|||+2FR',
    dialect: V32,
    at: '2020-06-12T11:51:35Z',
    expected: true,
  },
  {
    rule: '-3FR monthly (cfgutils next week)',
    timerec: 'UTC|19700101T000000|||MONTHLY|||-3FR',
    dialect: V32,
    at: '2020-06-12T11:51:35Z',
    expected: true,
  },
  {
    rule: '+4FR monthly (cfgutils last week of month)',
    timerec: 'UTC|19700101T000000|||MONTHLY|||+4FR',
    dialect: V32,
    at: '2020-06-26T11:51:35Z',
    expected: true,
  },
  {
    rule: '-1FR monthly (cfgutils previous week, May)',
    timerec: 'UTC|19700101T000000|||MONTHLY|||-1FR',
    dialect: V32,
    at: '2020-05-29T11:51:35Z',
    expected: true,
  },
  {
    rule: '+1FR monthly (cfgutils previous week) does not',
    timerec: 'UTC|19700101T000000|||MONTHLY|||+1FR',
    dialect: V32,
    at: '2020-05-29T11:51:35Z',
    expected: false,
  },

  // byday ordinals with yearly: the nth weekday of the year, or of the month with bymonth.
  {
    rule: '+23FR yearly (cfgutils)',
    timerec: 'UTC|19700101T000000|||YEARLY|||+23FR',
    dialect: V32,
    at: NOW,
    expected: true,
  },
  {
    rule: '+22FR yearly does not (cfgutils)',
    timerec: 'UTC|19700101T000000|||YEARLY|||+22FR',
    dialect: V32,
    at: NOW,
    expected: false,
  },
  {
    rule: '-30FR yearly (cfgutils)',
    timerec: 'UTC|19700101T000000|||YEARLY|||-30FR',
    dialect: V32,
    at: NOW,
    expected: true,
  },
  {
    rule: '-1SU yearly with bymonth 10: the last Sunday of October',
    timerec: '20200101T000000|||yearly|||-1SU||||10',
    dialect: V32,
    at: '2026-10-25T12:00:00Z',
    expected: true,
  },
  {
    rule: '-1SU yearly with bymonth 10: an earlier Sunday does not',
    timerec: '20200101T000000|||yearly|||-1SU||||10',
    dialect: V32,
    at: '2026-10-18T12:00:00Z',
    expected: false,
  },

  // bymonthday.
  {
    rule: 'bymonthday -1: Feb 28 in a common year',
    timerec: '20260101T000000|||monthly||||-1',
    dialect: V32,
    at: '2026-02-28T12:00:00Z',
    expected: true,
  },
  {
    rule: 'bymonthday -1: Feb 27 does not',
    timerec: '20260101T000000|||monthly||||-1',
    dialect: V32,
    at: '2026-02-27T12:00:00Z',
    expected: false,
  },
  {
    rule: 'bymonthday -1: Feb 29 in a leap year',
    timerec: '20260101T000000|||monthly||||-1',
    dialect: V32,
    at: '2028-02-29T12:00:00Z',
    expected: true,
  },
  {
    rule: 'bymonthday -1: Feb 28 in a leap year does not',
    timerec: '20260101T000000|||monthly||||-1',
    dialect: V32,
    at: '2028-02-28T12:00:00Z',
    expected: false,
  },
  {
    rule: 'bymonthday -1 (legacy): Apr 30',
    timerec: '20260101T000000|24H|monthly||||-1',
    dialect: LEGACY,
    at: '2026-04-30T23:59:59Z',
    expected: true,
  },
  {
    rule: 'bymonthday 31: Jan 31 (3.2 never matches the 31st)',
    timerec: '20260101T000000|||monthly||||31',
    dialect: V32,
    at: '2026-01-31T12:00:00Z',
    expected: true,
  },
  {
    rule: 'bymonthday 31: not May 1 after a 30-day April (3.2 wraps to the 1st)',
    timerec: '20260101T000000|||monthly||||31',
    dialect: V32,
    at: '2026-05-01T12:00:00Z',
    expected: false,
  },
  {
    rule: 'bymonthday 5 (cfgutils)',
    timerec: 'UTC|19700101T000000|||MONTHLY||||5',
    dialect: V32,
    at: NOW,
    expected: true,
  },
  {
    rule: 'bymonthday 6 does not (cfgutils)',
    timerec: 'UTC|19700101T000000|||MONTHLY||||6',
    dialect: V32,
    at: NOW,
    expected: false,
  },

  // byyearday.
  {
    rule: 'byyearday 1: Jan 1',
    timerec: '20260101T000000|||yearly|||||1,-1',
    dialect: V32,
    at: '2026-01-01T12:00:00Z',
    expected: true,
  },
  {
    rule: 'byyearday -1: Dec 31',
    timerec: '20260101T000000|||yearly|||||1,-1',
    dialect: V32,
    at: '2026-12-31T12:00:00Z',
    expected: true,
  },
  {
    rule: 'byyearday -1: Dec 31 is day 366 in a leap year',
    timerec: '20260101T000000|||yearly|||||1,-1',
    dialect: V32,
    at: '2028-12-31T12:00:00Z',
    expected: true,
  },
  {
    rule: 'byyearday 1,-1: Dec 30 does not',
    timerec: '20260101T000000|||yearly|||||1,-1',
    dialect: V32,
    at: '2028-12-30T12:00:00Z',
    expected: false,
  },
  {
    rule: 'byyearday 157 (cfgutils)',
    timerec: 'UTC|19700101T000000|||YEARLY|||||157',
    dialect: V32,
    at: NOW,
    expected: true,
  },
  {
    rule: 'byyearday 157 with the daily window ending at 11:51:35 (cfgutils)',
    timerec: 'UTC|19700101T115136|||YEARLY|||||157',
    dialect: V32,
    at: NOW,
    expected: false,
  },
  {
    rule: 'byyearday 60 (legacy): Mar 1 in a common year',
    timerec: '20260101T000000|24H|yearly|||||60',
    dialect: LEGACY,
    at: '2026-03-01T12:00:00Z',
    expected: true,
  },

  // byweekno (yearly only): ISO 8601 weeks. dtstart 2020-01-05 is a Sunday, so the
  // implied weekly window (dtstart to Saturday night) is the whole week.
  {
    rule: 'byweekno 23: Friday of ISO week 23 (cfgutils)',
    timerec: '20200105T000000|||yearly||||||23',
    dialect: V32,
    at: NOW,
    expected: true,
  },
  {
    rule: 'byweekno 23: Sunday May 31 is week 22',
    timerec: '20200105T000000|||yearly||||||23',
    dialect: V32,
    at: '2020-05-31T12:00:00Z',
    expected: false,
  },
  {
    rule: 'byweekno 23: Monday Jun 1 starts week 23',
    timerec: '20200105T000000|||yearly||||||23',
    dialect: V32,
    at: '2020-06-01T00:00:00Z',
    expected: true,
  },
  {
    rule: 'byweekno 23: Sunday Jun 7 ends week 23',
    timerec: '20200105T000000|||yearly||||||23',
    dialect: V32,
    at: '2020-06-07T23:59:59Z',
    expected: true,
  },
  {
    rule: 'byweekno 1: 2021 week 1 starts Monday Jan 4',
    timerec: '20200105T000000|||yearly||||||1',
    dialect: V32,
    at: '2021-01-04T12:00:00Z',
    expected: true,
  },
  {
    rule: 'byweekno 1: Jan 1 2021 is in week 53 of 2020',
    timerec: '20200105T000000|||yearly||||||1',
    dialect: V32,
    at: '2021-01-01T12:00:00Z',
    expected: false,
  },
  {
    rule: 'byweekno -1: Jan 1 2021 is the last ISO week of 2020',
    timerec: '20200105T000000|||yearly||||||-1',
    dialect: V32,
    at: '2021-01-01T12:00:00Z',
    expected: true,
  },
  {
    rule: 'byweekno with a Wednesday dtstart: the implied window is Wed-Sat',
    timerec: '20200101T000000|||yearly||||||23',
    dialect: V32,
    at: '2020-06-03T00:00:00Z',
    expected: true,
  },
  {
    rule: 'byweekno with a Wednesday dtstart: Tuesday of the week is outside',
    timerec: '20200101T000000|||yearly||||||23',
    dialect: V32,
    at: '2020-06-02T12:00:00Z',
    expected: false,
  },
  {
    rule: 'byweekno with a Wednesday dtstart: Sunday of the week is outside',
    timerec: '20200101T000000|||yearly||||||23',
    dialect: V32,
    at: '2020-06-07T12:00:00Z',
    expected: false,
  },
  {
    rule: 'byweekno 10 (legacy): weekly unit, dtstart weekday only',
    timerec: '20200106T090000|8H|yearly||||||10',
    dialect: LEGACY,
    at: '2026-03-02T10:00:00Z',
    expected: true,
  },
  {
    rule: 'byweekno 10 (legacy): another weekday of week 10 does not',
    timerec: '20200106T090000|8H|yearly||||||10',
    dialect: LEGACY,
    at: '2026-03-03T10:00:00Z',
    expected: false,
  },

  // bymonth.
  {
    rule: 'bymonth 6: June 5 (cfgutils)',
    timerec: 'UTC|19700101T000000|||YEARLY|||||||6',
    dialect: V32,
    at: NOW,
    expected: true,
  },
  {
    rule: 'bymonth 6: May 31 23:59:59',
    timerec: '20200101T000000|||yearly|||||||6',
    dialect: V32,
    at: '2020-05-31T23:59:59Z',
    expected: false,
  },
  {
    rule: 'bymonth 7: July 31 matches all day (OpenSIPS monthly end stops a day short)',
    timerec: '20200101T000000|||yearly|||||||7',
    dialect: V32,
    at: '2020-07-31T12:00:00Z',
    expected: true,
  },
  {
    rule: 'bymonth -1: December',
    timerec: '20200101T000000|||yearly|||||||-1',
    dialect: V32,
    at: '2020-12-15T12:00:00Z',
    expected: true,
  },
  {
    rule: 'bymonth 6 (legacy): June, not July as 3.1 computes',
    timerec: '20200101T000000|24H|yearly|||||||6',
    dialect: LEGACY,
    at: '2020-06-01T12:00:00Z',
    expected: true,
  },
  {
    rule: 'bymonth 6 (legacy): July 1 does not',
    timerec: '20200101T000000|24H|yearly|||||||6',
    dialect: LEGACY,
    at: '2020-07-01T12:00:00Z',
    expected: false,
  },
  {
    rule: 'bymonth (legacy): monthly unit, only dtstart day of month',
    timerec: '20200101T000000|24H|yearly|||||||6',
    dialect: LEGACY,
    at: '2020-06-05T12:00:00Z',
    expected: false,
  },
];

describe('timerec interval and byxxx, both dialects', () => {
  it.each(rows)('$rule [$dialect] ($at → $expected)', ({ timerec, dialect, at, expected }) => {
    expect(timerecMatches(timerec, dialect, at)).toBe(expected);
  });
});
