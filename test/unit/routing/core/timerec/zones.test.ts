import { describe, expect, it } from 'vitest';
import { type DialectRow, LEGACY, timerecMatches, V32 } from '../../../../support/timerec.js';
import { parseTimerec } from '../../../../../src/routing/core/timerec/index.js';

/**
 * Named zones and DST: windows are local wall-clock times in the zone.
 * Europe/Amsterdam 2026: summer time from 2026-03-29T01:00Z (02:00 CET →
 * 03:00 CEST) to 2026-10-25T01:00Z (03:00 CEST → 02:00 CET).
 * Rows: (rule pinned, timerec, dialect, default zone, instant in UTC, expected).
 */

type Row = DialectRow & { zone: string };

const NOW = '2020-06-05T11:51:35Z';
const NY_9_TO_5 = 'America/New_York|20260101T090000||8H|daily';
const AMS_8_TO_6 = 'Europe/Amsterdam|20260101T080000||10H|daily';
const AMS_8_TO_6_LEGACY = '20260101T080000|10H|daily';

const rows: Row[] = [
  // America/New_York vs UTC: 09:00-17:00 local.
  {
    rule: 'New York 9-17 in winter (EST): 14:00Z starts',
    timerec: NY_9_TO_5,
    dialect: V32,
    zone: 'UTC',
    at: '2026-01-15T14:00:00Z',
    expected: true,
  },
  {
    rule: 'New York 9-17 in winter: 13:59:59Z is 08:59:59 local',
    timerec: NY_9_TO_5,
    dialect: V32,
    zone: 'UTC',
    at: '2026-01-15T13:59:59Z',
    expected: false,
  },
  {
    rule: 'New York 9-17 in winter: 21:59:59Z is 16:59:59 local',
    timerec: NY_9_TO_5,
    dialect: V32,
    zone: 'UTC',
    at: '2026-01-15T21:59:59Z',
    expected: true,
  },
  {
    rule: 'New York 9-17 in winter: 22:00Z ends',
    timerec: NY_9_TO_5,
    dialect: V32,
    zone: 'UTC',
    at: '2026-01-15T22:00:00Z',
    expected: false,
  },
  {
    rule: 'New York 9-17 in summer (EDT): 13:00Z starts',
    timerec: NY_9_TO_5,
    dialect: V32,
    zone: 'UTC',
    at: '2026-07-15T13:00:00Z',
    expected: true,
  },
  {
    rule: 'New York 9-17 in summer: 21:00Z ends',
    timerec: NY_9_TO_5,
    dialect: V32,
    zone: 'UTC',
    at: '2026-07-15T21:00:00Z',
    expected: false,
  },
  {
    rule: 'UTC 9-17: 09:00Z starts',
    timerec: 'UTC|20260101T090000||8H|daily',
    dialect: V32,
    zone: 'America/New_York',
    at: '2026-01-15T09:00:00Z',
    expected: true,
  },
  {
    rule: 'UTC 9-17: 17:00Z ends, whatever the default zone',
    timerec: 'UTC|20260101T090000||8H|daily',
    dialect: V32,
    zone: 'America/New_York',
    at: '2026-01-15T17:00:00Z',
    expected: false,
  },
  {
    rule: 'no zone field: the default zone applies',
    timerec: '20260101T090000||8H|daily',
    dialect: V32,
    zone: 'America/New_York',
    at: '2026-01-15T21:59:59Z',
    expected: true,
  },
  {
    rule: 'no zone field: the default zone applies (legacy)',
    timerec: '20260101T090000|8H|daily',
    dialect: LEGACY,
    zone: 'America/New_York',
    at: '2026-01-15T22:00:00Z',
    expected: false,
  },

  // Amsterdam 08:00-18:00 on both sides of both DST changes.
  {
    rule: 'Amsterdam 8-18, day before spring DST: 07:00Z starts',
    timerec: AMS_8_TO_6,
    dialect: V32,
    zone: 'UTC',
    at: '2026-03-28T07:00:00Z',
    expected: true,
  },
  {
    rule: 'Amsterdam 8-18, day before spring DST: 06:59:59Z',
    timerec: AMS_8_TO_6,
    dialect: V32,
    zone: 'UTC',
    at: '2026-03-28T06:59:59Z',
    expected: false,
  },
  {
    rule: 'Amsterdam 8-18, day before spring DST: 17:00Z ends',
    timerec: AMS_8_TO_6,
    dialect: V32,
    zone: 'UTC',
    at: '2026-03-28T17:00:00Z',
    expected: false,
  },
  {
    rule: 'Amsterdam 8-18, spring DST day: 06:00Z starts',
    timerec: AMS_8_TO_6,
    dialect: V32,
    zone: 'UTC',
    at: '2026-03-29T06:00:00Z',
    expected: true,
  },
  {
    rule: 'Amsterdam 8-18, spring DST day: 05:59:59Z',
    timerec: AMS_8_TO_6,
    dialect: V32,
    zone: 'UTC',
    at: '2026-03-29T05:59:59Z',
    expected: false,
  },
  {
    rule: 'Amsterdam 8-18, spring DST day: 15:59:59Z',
    timerec: AMS_8_TO_6,
    dialect: V32,
    zone: 'UTC',
    at: '2026-03-29T15:59:59Z',
    expected: true,
  },
  {
    rule: 'Amsterdam 8-18, spring DST day: 16:00Z ends',
    timerec: AMS_8_TO_6,
    dialect: V32,
    zone: 'UTC',
    at: '2026-03-29T16:00:00Z',
    expected: false,
  },
  {
    rule: 'Amsterdam 8-18, day before autumn DST: 06:00Z starts',
    timerec: AMS_8_TO_6,
    dialect: V32,
    zone: 'UTC',
    at: '2026-10-24T06:00:00Z',
    expected: true,
  },
  {
    rule: 'Amsterdam 8-18, day before autumn DST: 16:00Z ends',
    timerec: AMS_8_TO_6,
    dialect: V32,
    zone: 'UTC',
    at: '2026-10-24T16:00:00Z',
    expected: false,
  },
  {
    rule: 'Amsterdam 8-18, autumn DST day: 06:59:59Z is 07:59:59 local',
    timerec: AMS_8_TO_6,
    dialect: V32,
    zone: 'UTC',
    at: '2026-10-25T06:59:59Z',
    expected: false,
  },
  {
    rule: 'Amsterdam 8-18, autumn DST day: 07:00Z starts',
    timerec: AMS_8_TO_6,
    dialect: V32,
    zone: 'UTC',
    at: '2026-10-25T07:00:00Z',
    expected: true,
  },
  {
    rule: 'Amsterdam 8-18, autumn DST day: 16:59:59Z',
    timerec: AMS_8_TO_6,
    dialect: V32,
    zone: 'UTC',
    at: '2026-10-25T16:59:59Z',
    expected: true,
  },
  {
    rule: 'Amsterdam 8-18, autumn DST day: 17:00Z ends',
    timerec: AMS_8_TO_6,
    dialect: V32,
    zone: 'UTC',
    at: '2026-10-25T17:00:00Z',
    expected: false,
  },
  {
    rule: 'Amsterdam 8-18 (legacy), spring DST day: 06:00Z starts',
    timerec: AMS_8_TO_6_LEGACY,
    dialect: LEGACY,
    zone: 'Europe/Amsterdam',
    at: '2026-03-29T06:00:00Z',
    expected: true,
  },
  {
    rule: 'Amsterdam 8-18 (legacy), spring DST day: 16:00Z ends',
    timerec: AMS_8_TO_6_LEGACY,
    dialect: LEGACY,
    zone: 'Europe/Amsterdam',
    at: '2026-03-29T16:00:00Z',
    expected: false,
  },
  {
    rule: 'Amsterdam 8-18 (legacy), autumn DST day: 07:00Z starts',
    timerec: AMS_8_TO_6_LEGACY,
    dialect: LEGACY,
    zone: 'Europe/Amsterdam',
    at: '2026-10-25T07:00:00Z',
    expected: true,
  },
  {
    rule: 'Amsterdam 8-18 (legacy), autumn DST day: 06:59:59Z',
    timerec: AMS_8_TO_6_LEGACY,
    dialect: LEGACY,
    zone: 'Europe/Amsterdam',
    at: '2026-10-25T06:59:59Z',
    expected: false,
  },

  // Wall-clock times that do not exist or exist twice.
  {
    rule: 'dtstart 02:30 in the spring gap means 03:30 CEST (01:30Z), as glibc mktime',
    timerec: 'Europe/Amsterdam|20260329T023000|20260329T040000',
    dialect: V32,
    zone: 'UTC',
    at: '2026-03-29T01:30:00Z',
    expected: true,
  },
  {
    rule: 'dtstart 02:30 in the spring gap: 01:29:59Z is before it',
    timerec: 'Europe/Amsterdam|20260329T023000|20260329T040000',
    dialect: V32,
    zone: 'UTC',
    at: '2026-03-29T01:29:59Z',
    expected: false,
  },
  {
    rule: 'dtend 04:00 CEST is 02:00Z',
    timerec: 'Europe/Amsterdam|20260329T023000|20260329T040000',
    dialect: V32,
    zone: 'UTC',
    at: '2026-03-29T02:00:00Z',
    expected: false,
  },
  {
    rule: 'dtstart 02:30 repeated in autumn is the first one, CEST (00:30Z)',
    timerec: 'Europe/Amsterdam|20261025T023000|20261025T040000',
    dialect: V32,
    zone: 'UTC',
    at: '2026-10-25T00:30:00Z',
    expected: true,
  },
  {
    rule: 'dtstart 02:30 repeated in autumn: 00:29:59Z is before it',
    timerec: 'Europe/Amsterdam|20261025T023000|20261025T040000',
    dialect: V32,
    zone: 'UTC',
    at: '2026-10-25T00:29:59Z',
    expected: false,
  },
  {
    rule: 'a daily 02:00-03:00 window never opens on the spring DST day',
    timerec: 'Europe/Amsterdam|20260101T020000||1H|daily',
    dialect: V32,
    zone: 'UTC',
    at: '2026-03-29T01:00:00Z',
    expected: false,
  },
  {
    rule: 'a daily 02:00-03:00 window, the day before',
    timerec: 'Europe/Amsterdam|20260101T020000||1H|daily',
    dialect: V32,
    zone: 'UTC',
    at: '2026-03-28T01:30:00Z',
    expected: true,
  },
  {
    rule: 'a daily 02:00-03:00 window matches the first 02:30 of the autumn DST day',
    timerec: 'Europe/Amsterdam|20260101T020000||1H|daily',
    dialect: V32,
    zone: 'UTC',
    at: '2026-10-25T00:30:00Z',
    expected: true,
  },
  {
    rule: 'a daily 02:00-03:00 window matches the second 02:30 too',
    timerec: 'Europe/Amsterdam|20260101T020000||1H|daily',
    dialect: V32,
    zone: 'UTC',
    at: '2026-10-25T01:30:00Z',
    expected: true,
  },

  // cfgutils vectors with zones (now is 14:51:35 in Bucharest, 23:51:35 in Auckland).
  {
    rule: 'Bucharest dtstart inclusive (cfgutils)',
    timerec: 'Europe/Bucharest|20200605T145135|20200605T230000',
    dialect: V32,
    zone: 'UTC',
    at: NOW,
    expected: true,
  },
  {
    rule: 'Bucharest dtend exclusive (cfgutils)',
    timerec: 'Europe/Bucharest|20200101T000000|20200605T145135',
    dialect: V32,
    zone: 'UTC',
    at: NOW,
    expected: false,
  },
  {
    rule: 'Auckland dtstart inclusive (cfgutils)',
    timerec: 'Pacific/Auckland|20200605T235135|20200606T000000',
    dialect: V32,
    zone: 'UTC',
    at: NOW,
    expected: true,
  },
  {
    rule: 'Auckland dtstart one second later (cfgutils)',
    timerec: 'Pacific/Auckland|20200605T235136|20200606T000000',
    dialect: V32,
    zone: 'UTC',
    at: NOW,
    expected: false,
  },
  {
    rule: 'America/Chihuahua daily 05:00-06:00 (cfgutils)',
    timerec: 'America/Chihuahua|20200605T050000|20200605T060000||DAILY',
    dialect: V32,
    zone: 'UTC',
    at: NOW,
    expected: true,
  },
  {
    rule: 'Auckland daily 23:00-24:00 (cfgutils)',
    timerec: 'Pacific/Auckland|20200605T230000|20200606T000000||DAILY',
    dialect: V32,
    zone: 'UTC',
    at: NOW,
    expected: true,
  },
  {
    rule: 'Auckland daily 00:00-01:00 (cfgutils)',
    timerec: 'Pacific/Auckland|20200606T000000|20200606T010000||DAILY',
    dialect: V32,
    zone: 'UTC',
    at: NOW,
    expected: false,
  },
  {
    rule: 'Bucharest weekdays 07:00+8H (cfgutils)',
    timerec: 'Europe/Bucharest|20190723T070000||PT8H|WEEKLY|||MO,TU,WE,TH,FR',
    dialect: V32,
    zone: 'UTC',
    at: NOW,
    expected: true,
  },
  {
    rule: 'Bucharest weekdays 07:00+7H ended at 14:00 (cfgutils)',
    timerec: 'Europe/Bucharest|20190723T070000||PT7H|WEEKLY|||MO,TU,WE,TH,FR',
    dialect: V32,
    zone: 'UTC',
    at: NOW,
    expected: false,
  },
];

describe('timerec zones and DST', () => {
  it.each(rows)('$rule [$dialect, default $zone] ($at → $expected)', ({ timerec, dialect, zone, at, expected }) => {
    expect(timerecMatches(timerec, dialect, at, zone)).toBe(expected);
  });

  it('gives the same answers when instants of several zones interleave (per-zone caches stay apart)', () => {
    const newYork = parseTimerec(NY_9_TO_5, { dialect: V32, defaultTimeZone: 'UTC' });
    const amsterdam = parseTimerec(AMS_8_TO_6, { dialect: V32, defaultTimeZone: 'UTC' });
    if (!newYork.ok || !amsterdam.ok) throw new Error('parse failed');
    const answers: boolean[] = [];
    for (let hour = 0; hour < 48; hour += 1) {
      const at = new Date(Date.UTC(2026, 2, 28, hour));
      answers.push(newYork.timerec.matches(at), amsterdam.timerec.matches(at));
    }
    // 2026-03-28 (CET, EDT): Amsterdam 07-17Z, New York 13-21Z; 2026-03-29 (CEST): Amsterdam 06-16Z.
    const expected: boolean[] = [];
    for (let hour = 0; hour < 48; hour += 1) {
      const hourOfDay = hour % 24;
      const amsterdamOpen = hour < 24 ? hourOfDay >= 7 && hourOfDay < 17 : hourOfDay >= 6 && hourOfDay < 16;
      expected.push(hourOfDay >= 13 && hourOfDay < 21, amsterdamOpen);
    }
    expect(answers).toEqual(expected);
  });
});
