import { describe, expect, it } from 'vitest';
import { timerecMatches, type TimerecRow } from '../../../../support/timerec.js';

/**
 * opensips-3.2 expressions: `&` and, `/` or, `!` not, parentheses.
 * ONE and ZERO are the cfgutils test operands (modules/cfgutils/test/cfgutils.c
 * `_1` / `_0`): a one-second window that holds NOW, and an empty window.
 * Rows: (rule pinned, timerec, instant in UTC, expected). Default zone UTC.
 */

const NOW = '2020-06-05T11:51:35Z';
const ONE = 'UTC|20200605T115135|20200605T115136';
const ZERO = 'UTC|20200605T115135|20200605T115135';

// cfgutils README: workdays 8-18 in 2021 except the 12-14 lunch break.
const LUNCH =
  '20210104T080000|20211231T180000||WEEKLY|||MO,TU,WE,TH,FR & !20210104T120000|20211231T140000||WEEKLY|||MO,TU,WE,TH,FR';
const LUNCH_A = '20210104T080000|20211231T180000||WEEKLY|||MO,TU,WE,TH,FR';
// cfgutils README: New York workdays 9-17 except two European holidays.
const HOLIDAYS =
  'America/New_York|20210104T090000|20210104T170000||WEEKLY|||MO,TU,WE,TH,FR & !(Europe/Amsterdam|20210427T000000|20210428T000000 / Europe/London|20211227T000000|20211228T000000)';

const rows: TimerecRow[] = [
  { rule: 'or: one of two', timerec: `${ONE}/${ZERO}`, at: NOW, expected: true },
  { rule: 'or: the other of two', timerec: `${ZERO} / ${ONE}`, at: NOW, expected: true },
  { rule: 'or: neither', timerec: `${ZERO}/${ZERO}`, at: NOW, expected: false },
  { rule: 'or: four operands, the last true', timerec: `${ZERO}/${ZERO}/${ZERO}/${ONE}`, at: NOW, expected: true },
  { rule: 'and: both', timerec: `${ONE}&${ONE}`, at: NOW, expected: true },
  { rule: 'and: one false', timerec: `${ONE} & ${ZERO}`, at: NOW, expected: false },
  { rule: 'and: four operands, one false', timerec: `${ONE}&${ONE}&${ZERO}&${ONE}`, at: NOW, expected: false },
  { rule: 'parentheses: (ONE)', timerec: `(${ONE})`, at: NOW, expected: true },
  { rule: 'parentheses: (ONE / ZERO) & ZERO', timerec: `(${ONE}/${ZERO}) &${ZERO}`, at: NOW, expected: false },
  { rule: 'parentheses: ONE / (ZERO & ZERO)', timerec: `${ONE}/ (${ZERO}&${ZERO})`, at: NOW, expected: true },
  {
    rule: 'nested parentheses, false',
    timerec: `(${ONE}/ ((${ONE}/${ZERO})&${ZERO})) &${ZERO}`,
    at: NOW,
    expected: false,
  },
  {
    rule: 'nested parentheses, true',
    timerec: `${ONE}/ (((${ONE}/${ZERO})&${ZERO}) &${ZERO})`,
    at: NOW,
    expected: true,
  },
  {
    rule: 'blanks, tabs and newlines between tokens',
    timerec: `${ONE}  /\n\t((\n  (\n\t${ONE} /\t\t${ZERO})&\n  ${ZERO}\t\t) &\t${ZERO}\n)`,
    at: NOW,
    expected: true,
  },
  { rule: 'not: !ZERO', timerec: `!${ZERO}`, at: NOW, expected: true },
  { rule: 'not twice: ! !ZERO', timerec: `! !${ZERO}`, at: NOW, expected: false },
  { rule: 'not: !(ONE)', timerec: `!(${ONE})`, at: NOW, expected: false },
  { rule: 'not inside parentheses: (!ZERO)', timerec: `(!${ZERO})`, at: NOW, expected: true },
  { rule: 'not applies to its operand only: !(ONE) & ONE', timerec: `!(${ONE}) & ${ONE}`, at: NOW, expected: false },
  { rule: 'not on both sides: !(ZERO) & !(ZERO)', timerec: `!(${ZERO}) & !(${ZERO})`, at: NOW, expected: true },
  { rule: 'not of a negated group: !(!ONE)', timerec: `!(!${ONE})`, at: NOW, expected: true },
  {
    rule: '"/" inside a zone name is not an operator',
    timerec: 'Europe/Bucharest|20200605T145135|20200605T145136 / America/New_York|20200605T075135|20200605T075136',
    at: NOW,
    expected: true,
  },
  {
    rule: 'not before a zone-named recurrence (cfgutils)',
    timerec: '!Europe/Bucharest|20190723T070000||PT7H|WEEKLY|||MO,TU,WE,TH,FR',
    at: NOW,
    expected: true,
  },

  // The README's lunch-break example. dtend a year after dtstart makes each
  // operand's daily window a day or longer, so time_rec.c matches whole
  // weekdays (check_min_unit: duration >= SEC_DAILY) and A & !B never holds.
  {
    rule: 'lunch example: operand A alone matches a whole weekday (03:00)',
    timerec: LUNCH_A,
    at: '2021-03-03T03:00:00Z',
    expected: true,
  },
  {
    rule: 'lunch example: A & !B at 09:00 on a Wednesday is false',
    timerec: LUNCH,
    at: '2021-03-03T09:00:00Z',
    expected: false,
  },
  {
    rule: 'lunch example: A & !B at 13:00 on a Wednesday is false',
    timerec: LUNCH,
    at: '2021-03-03T13:00:00Z',
    expected: false,
  },
  { rule: 'lunch example: A & !B on a Saturday is false', timerec: LUNCH, at: '2021-03-06T09:00:00Z', expected: false },

  // The README's holiday example: New York 9-17 EDT is 13:00-21:00Z in April.
  {
    rule: 'holiday example: a Monday afternoon in New York',
    timerec: HOLIDAYS,
    at: '2021-04-26T15:00:00Z',
    expected: true,
  },
  {
    rule: "holiday example: King's Day in Amsterdam (Apr 27) is excluded",
    timerec: HOLIDAYS,
    at: '2021-04-27T15:00:00Z',
    expected: false,
  },
  { rule: 'holiday example: the day after is back', timerec: HOLIDAYS, at: '2021-04-28T15:00:00Z', expected: true },
  {
    rule: 'holiday example: Dec 27 in London is excluded (14:00Z = 09:00 EST)',
    timerec: HOLIDAYS,
    at: '2021-12-27T14:00:00Z',
    expected: false,
  },
  { rule: 'holiday example: Dec 28 is back', timerec: HOLIDAYS, at: '2021-12-28T14:00:00Z', expected: true },
  { rule: 'holiday example: before 09:00 New York', timerec: HOLIDAYS, at: '2021-04-26T12:59:59Z', expected: false },
  { rule: 'holiday example: a Saturday', timerec: HOLIDAYS, at: '2021-05-01T15:00:00Z', expected: false },
];

describe('timerec expressions (opensips-3.2)', () => {
  it.each(rows)('$rule ($at → $expected)', ({ timerec, at, expected }) => {
    expect(timerecMatches(timerec, 'opensips-3.2', at)).toBe(expected);
  });
});
