import { describe, expect, it } from 'vitest';
import { LEGACY, V32 } from '../../../../support/timerec.js';
import { parseTimerec, type TimerecDialect } from '../../../../../src/routing/core/timerec/index.js';

/**
 * Parse errors: one sentence naming the field or position and what is
 * allowed. Several of these the anchors accept silently (unknown freq reads
 * as "no freq", a malformed duration as 0, an unknown zone as UTC).
 * Rows: (rule pinned, timerec, dialect, exact message). Default zone UTC.
 */

interface Row {
  rule: string;
  timerec: string;
  dialect: TimerecDialect;
  error: string;
}

function errorOf(timerec: string, dialect: TimerecDialect, defaultTimeZone = 'UTC'): string {
  const parsed = parseTimerec(timerec, { dialect, defaultTimeZone });
  return parsed.ok ? '(parsed)' : parsed.error;
}

const ONE = 'UTC|20200605T115135|20200605T115136';
const ZERO = 'UTC|20200605T115135|20200605T115135';
const FREQS = 'allowed daily, weekly, monthly, yearly';
const DURATION = 'expected a duration P[nW][nD][T[nH][nM][nS]] or [nH][nM][nS], e.g. PT8H30M, P1D or 10H';
const DATE_TIME = 'expected a date-time YYYYMMDDThhmmss (15 characters, local time)';
const BYDAY = 'is not [+|-][n]DD with DD one of SU, MO, TU, WE, TH, FR, SA';
const ZONE = 'unknown time zone; expected an IANA name such as Europe/London, America/New_York or UTC';

const rows: Row[] = [
  // freq
  {
    rule: 'freq hourly is unknown',
    timerec: '20121101T000000||p30d|hourly',
    dialect: V32,
    error: `field 4 (freq) "hourly": ${FREQS}`,
  },
  {
    rule: 'freq secondly is unknown',
    timerec: '20040101T083000||10H|secondly',
    dialect: V32,
    error: `field 4 (freq) "secondly": ${FREQS}`,
  },
  {
    rule: 'freq minutely is unknown (legacy)',
    timerec: '20040101T083000|10H|minutely',
    dialect: LEGACY,
    error: `field 3 (freq) "minutely": ${FREQS}`,
  },
  {
    rule: 'a misspelt freq is unknown',
    timerec: '20040101T083000||10H|wekly',
    dialect: V32,
    error: `field 4 (freq) "wekly": ${FREQS}`,
  },

  // duration
  {
    rule: 'duration with an unknown unit',
    timerec: '20040101T083000||10X',
    dialect: V32,
    error: `field 3 (duration) "10X": ${DURATION}`,
  },
  {
    rule: 'duration hours need T after P',
    timerec: '20040101T083000||P1H',
    dialect: V32,
    error: `field 3 (duration) "P1H": ${DURATION}`,
  },
  {
    rule: 'duration days need P',
    timerec: '20040101T083000||1D',
    dialect: V32,
    error: `field 3 (duration) "1D": ${DURATION}`,
  },
  {
    rule: 'duration PT names no time',
    timerec: '20040101T083000||PT',
    dialect: V32,
    error: `field 3 (duration) "PT": ${DURATION}`,
  },
  {
    rule: 'duration digits without a unit (legacy)',
    timerec: '20040101T083000|P30',
    dialect: LEGACY,
    error: `field 2 (duration) "P30": ${DURATION}`,
  },

  // date-times
  {
    rule: 'date-time of 14 characters',
    timerec: '2004010T083000',
    dialect: V32,
    error: `field 1 (dtstart) "2004010T083000": ${DATE_TIME}`,
  },
  {
    rule: 'date-time with trailing garbage',
    timerec: '20040101T083000x',
    dialect: V32,
    error: `field 1 (dtstart) "20040101T083000x": ${DATE_TIME}`,
  },
  {
    rule: 'date-time with a blank for T (legacy)',
    timerec: '20040101 083000',
    dialect: LEGACY,
    error: `field 1 (dtstart) "20040101 083000": ${DATE_TIME}`,
  },
  {
    rule: 'date-time before 1970 (legacy)',
    timerec: '19691231T000000',
    dialect: LEGACY,
    error: 'field 1 (dtstart) "19691231T000000": year 1969 is before 1970',
  },
  {
    rule: 'date-time month 13',
    timerec: '20041301T000000',
    dialect: V32,
    error: 'field 1 (dtstart) "20041301T000000": month 13 is not 01-12',
  },
  {
    rule: 'date-time 30 February (mktime would roll it over)',
    timerec: '20040230T000000',
    dialect: V32,
    error: 'field 1 (dtstart) "20040230T000000": day 30 is not 01-29 in 2004-02',
  },
  {
    rule: 'date-time hour 24',
    timerec: '20040101T240000',
    dialect: V32,
    error: 'field 1 (dtstart) "20040101T240000": hour 24 is not 00-23',
  },
  {
    rule: 'date-time second 60',
    timerec: '20200101T235960',
    dialect: V32,
    error: 'field 1 (dtstart) "20200101T235960": second 60 is not 00-59',
  },
  {
    rule: 'a legacy string in 3.2: dtend gets the duration',
    timerec: '20040101T083000|10H|weekly|||MO,TU,WE,TH,FR',
    dialect: V32,
    error: `field 2 (dtend) "10H": ${DATE_TIME}; this is the legacy layout, insert an empty dtend after dtstart`,
  },
  {
    rule: 'a lower-case zone is read as dtstart',
    timerec: 'europe/London|20040101T000000',
    dialect: V32,
    error: `field 1 (dtstart) "europe/London": ${DATE_TIME}; a time zone must start with A-Z`,
  },
  {
    rule: 'the legacy format has no zone field',
    timerec: 'Europe/London|20040101T000000',
    dialect: LEGACY,
    error: `field 1 (dtstart) "Europe/London": ${DATE_TIME}; the legacy format has no time-zone field`,
  },

  // byday
  {
    rule: 'byday with an unknown day',
    timerec: '20040101T083000||10H|weekly|||MO,XX',
    dialect: V32,
    error: `field 7 (byday) "MO,XX": "XX" ${BYDAY}`,
  },
  {
    rule: 'byday with an empty item',
    timerec: '20040101T083000||10H|weekly|||MO,,TU',
    dialect: V32,
    error: `field 7 (byday) "MO,,TU": "" ${BYDAY}`,
  },
  {
    rule: 'byday with a sign and no number (legacy)',
    timerec: '20040101T083000|10H|weekly|||+MO',
    dialect: LEGACY,
    error: `field 6 (byday) "+MO": "+MO" ${BYDAY}`,
  },
  {
    rule: 'byday with trailing garbage (legacy)',
    timerec: '20040101T083000|10H|weekly|||MO junk',
    dialect: LEGACY,
    error: `field 6 (byday) "MO junk": "MO junk" ${BYDAY}`,
  },
  {
    rule: 'byday ordinal 0',
    timerec: '20040101T083000||10H|monthly|||0FR',
    dialect: V32,
    error: 'field 7 (byday) "0FR": the ordinal of "0FR" must not be 0',
  },
  {
    rule: 'byday ordinal with weekly',
    timerec: '20040101T083000||10H|weekly|||+1MO',
    dialect: V32,
    error: 'field 7 (byday) "+1MO": the ordinal of +1MO needs freq monthly or yearly',
  },
  {
    rule: 'byday without ordinal with monthly (3.2 reads first, 3.1 never, RFC every)',
    timerec: '20040101T083000||10H|monthly|||MO',
    dialect: V32,
    error:
      'field 7 (byday) "MO": with freq monthly MO needs an ordinal (+1MO is the first, -1MO the last); for every MO use freq weekly',
  },
  {
    rule: 'byday ordinal 6 in a month',
    timerec: '20040101T083000||10H|monthly|||+6FR',
    dialect: V32,
    error: 'field 7 (byday) "+6FR": ordinal 6 is out of range; a month has at most 5 of each weekday',
  },

  // other lists
  {
    rule: 'bymonthday 32',
    timerec: '20040101T083000||10H|monthly||||32',
    dialect: V32,
    error: 'field 8 (bymonthday) "32": "32" is not 1 to 31 or -31 to -1',
  },
  {
    rule: 'bymonthday 0',
    timerec: '20040101T083000||10H|monthly||||0',
    dialect: V32,
    error: 'field 8 (bymonthday) "0": "0" is not 1 to 31 or -31 to -1',
  },
  {
    rule: 'byyearday 367',
    timerec: '20040101T083000||10H|yearly|||||367',
    dialect: V32,
    error: 'field 9 (byyearday) "367": "367" is not 1 to 366 or -366 to -1',
  },
  {
    rule: 'byweekno 54',
    timerec: '20040101T083000||10H|yearly||||||54',
    dialect: V32,
    error: 'field 10 (byweekno) "54": "54" is not 1 to 53 or -53 to -1',
  },
  {
    rule: 'bymonth 13',
    timerec: '20040101T083000||10H|yearly|||||||13',
    dialect: V32,
    error: 'field 11 (bymonth) "13": "13" is not 1 to 12 or -12 to -1',
  },
  {
    rule: 'byweekno needs yearly',
    timerec: '20040101T083000||10H|weekly||||||10',
    dialect: V32,
    error: 'field 10 (byweekno) "10": needs freq yearly (field 4 is weekly)',
  },

  // time zones
  {
    rule: 'unknown zone',
    timerec: 'Mars/Olympus|20040101T000000',
    dialect: V32,
    error: `field 1 (timezone) "Mars/Olympus": ${ZONE}`,
  },
  {
    rule: 'POSIX TZ strings are not zones (cfgutils uses UTC+12)',
    timerec: 'UTC+12|19700101T000000|||YEARLY|||||155',
    dialect: V32,
    error: `field 1 (timezone) "UTC+12": ${ZONE}`,
  },

  // field counts and combinations
  {
    rule: 'too many fields (3.2, no zone)',
    timerec: '20040101T083000||10H|weekly|||MO||||||1',
    dialect: V32,
    error: 'field 12 "|1": too many fields; the opensips-3.2 format ends with field 11 (bymonth)',
  },
  {
    rule: 'too many fields (3.2, with zone)',
    timerec: 'Europe/London|20040101T083000||10H|weekly|||MO|||||1',
    dialect: V32,
    error: 'field 13 "1": too many fields; the opensips-3.2 format ends with field 12 (bymonth)',
  },
  {
    rule: 'too many fields (legacy)',
    timerec: '20040101T083000|10H|weekly|||MO|||||x',
    dialect: LEGACY,
    error: 'field 11 "x": too many fields; the legacy format ends with field 10 (bymonth)',
  },
  {
    rule: 'until needs freq',
    timerec: '20040101T083000||10H||20040201T000000',
    dialect: V32,
    error: 'field 5 (until) "20040201T000000": needs a freq in field 4',
  },
  {
    rule: 'until needs freq (legacy)',
    timerec: '20040101T083000|10H||20040201T000000',
    dialect: LEGACY,
    error: 'field 4 (until) "20040201T000000": needs a freq in field 3',
  },
  {
    rule: 'interval needs freq',
    timerec: '20040101T083000||10H|||2',
    dialect: V32,
    error: 'field 6 (interval) "2": needs a freq in field 4',
  },
  {
    rule: 'byday needs freq',
    timerec: '20040101T083000||10H||||MO',
    dialect: V32,
    error: 'field 7 (byday) "MO": needs a freq in field 4',
  },
  {
    rule: 'interval 0',
    timerec: '20040101T083000||10H|weekly||0',
    dialect: V32,
    error: 'field 6 (interval) "0": expected a whole number from 1 to 999999',
  },
  {
    rule: 'interval not a number',
    timerec: '20040101T083000||10H|weekly||two',
    dialect: V32,
    error: 'field 6 (interval) "two": expected a whole number from 1 to 999999',
  },
  {
    rule: 'dtend and duration together (OpenSIPS drops dtend)',
    timerec: '20040101T083000|20040101T183000|10H',
    dialect: V32,
    error: 'field 3 (duration) "10H": give dtend (field 2) or duration, not both',
  },
  {
    rule: 'dtend before dtstart',
    timerec: '20040101T083000|20031231T000000',
    dialect: V32,
    error: 'field 2 (dtend) "20031231T000000": is before dtstart',
  },
  {
    rule: 'legacy freq without duration would match forever',
    timerec: '20040101T000000||weekly|||SA,SU',
    dialect: LEGACY,
    error:
      'field 3 (freq) "weekly": needs a non-zero duration in field 2; without one a legacy recurrence matches forever from dtstart',
  },
  {
    rule: 'legacy freq with a zero duration would match forever',
    timerec: '20040101T000000|0H|daily',
    dialect: LEGACY,
    error:
      'field 3 (freq) "daily": needs a non-zero duration in field 2; without one a legacy recurrence matches forever from dtstart',
  },

  // expressions
  {
    rule: 'trailing garbage after a recurrence',
    timerec: '20040101T083000||10H|weekly|||MO,TU,WE,TH,FR xyz',
    dialect: V32,
    error: 'position 46: expected "&" or "/" after a recurrence, found "x"',
  },
  {
    rule: '& and / mixed at one level',
    timerec: `${ONE} & ${ONE} / ${ONE}`,
    dialect: V32,
    error: 'position 75: "&" and "/" cannot be mixed at one level; add parentheses',
  },
  {
    rule: '/ and & mixed inside parentheses',
    timerec: `(${ONE} / ${ONE} & ${ONE})`,
    dialect: V32,
    error: 'position 76: "/" and "&" cannot be mixed at one level; add parentheses',
  },
  {
    rule: 'operator without a right operand',
    timerec: `${ONE} &`,
    dialect: V32,
    error: 'position 37: "&" needs a recurrence after it',
  },
  { rule: 'a lone !', timerec: '!', dialect: V32, error: 'position 1: "!" needs a recurrence or "(" after it' },
  { rule: 'empty parentheses (OpenSIPS: false)', timerec: '()', dialect: V32, error: 'position 1: empty parentheses' },
  {
    rule: 'negated empty parentheses (OpenSIPS: true)',
    timerec: '!()',
    dialect: V32,
    error: 'position 2: empty parentheses',
  },
  { rule: 'unclosed parenthesis', timerec: `(${ONE}`, dialect: V32, error: 'position 1: "(" has no matching ")"' },
  {
    rule: 'a stray )',
    timerec: `(${ONE}))`,
    dialect: V32,
    error: 'position 38: expected "&" or "/" after a recurrence, found ")"',
  },
  {
    rule: 'a doubled operator',
    timerec: `${ZERO} && ${ONE}`,
    dialect: V32,
    error: 'position 38: expected a recurrence, "!" or "(", found "&"',
  },
  {
    rule: 'two recurrences without an operator',
    timerec: `${ZERO} ${ONE}`,
    dialect: V32,
    error: 'position 37: expected "&" or "/" after a recurrence, found "U"',
  },
  {
    rule: '( inside a recurrence',
    timerec: `${ONE}(${ZERO})`,
    dialect: V32,
    error: 'position 36: "(" cannot appear inside a recurrence',
  },
  {
    rule: '! after a recurrence',
    timerec: `(${ONE}) !${ONE}`,
    dialect: V32,
    error: 'position 39: expected "&" or "/" after a recurrence, found "!"',
  },
  {
    rule: 'a bad operand names its position',
    timerec: `${ONE} / 20200605T115135||10X`,
    dialect: V32,
    error: `recurrence at position 39, field 3 (duration) "10X": ${DURATION}`,
  },
  {
    rule: 'legacy has no operators',
    timerec: `${ONE} & ${ONE}`,
    dialect: LEGACY,
    error: 'position 37: "&" is an opensips-3.2 operator; a legacy timerec is one recurrence',
  },
];

describe('timerec parse errors', () => {
  it.each(rows)('$rule [$dialect]', ({ timerec, dialect, error }) => {
    expect(errorOf(timerec, dialect)).toBe(error);
  });

  it('rejects an unknown default time zone', () => {
    expect(errorOf('20040101T000000', LEGACY, 'Nowhere/Land')).toBe(
      'default time zone "Nowhere/Land" is unknown; expected an IANA name such as Europe/London or UTC',
    );
  });

  it('rejects blank text, which the caller treats as "always"', () => {
    expect(errorOf(' \t', V32)).toBe('empty timerec; an empty timerec means "always" and is not parsed');
  });
});
