import { MS_PER_SECOND } from './calendar.js';
import { parseByDay, parseNumberList, weekdayName } from './by-lists.js';
import { EPOCH_WALL_CLOCK, parseDateTime, wallClockAt, type WallClock } from './datetime.js';
import { parseDuration } from './duration.js';
import { periodPosition, type ByDay, type Freq, type Recurrence, type TimerecDialect } from './recurrence.js';
import { instantOfWallClock, zoneNamed, type Zone } from './zone.js';
import { endOfPeriod, unitOf } from './window-unit.js';

/**
 * One recurrence's `|`-separated fields, in either dialect:
 * - legacy (OpenSIPS ≤ 3.1 `dr_load.c` parse_time_def, Kamailio):
 *   dtstart|duration|freq|until|interval|byday|bymonthday|byyearday|byweekno|bymonth
 * - opensips-3.2 (time_rec.c `_tmrec_parse`, :1555-1636):
 *   [timezone|]dtstart|dtend|duration|freq|until|…|bymonth
 * Trailing empty fields may be left out; inner ones stay (`||`).
 */

type FieldName =
  | 'timezone'
  | 'dtstart'
  | 'dtend'
  | 'duration'
  | 'freq'
  | 'until'
  | 'interval'
  | 'byday'
  | 'bymonthday'
  | 'byyearday'
  | 'byweekno'
  | 'bymonth';

const LAYOUT_32: readonly FieldName[] = [
  'timezone',
  'dtstart',
  'dtend',
  'duration',
  'freq',
  'until',
  'interval',
  'byday',
  'bymonthday',
  'byyearday',
  'byweekno',
  'bymonth',
];
const LAYOUT_LEGACY: readonly FieldName[] = [
  'dtstart',
  'duration',
  'freq',
  'until',
  'interval',
  'byday',
  'bymonthday',
  'byyearday',
  'byweekno',
  'bymonth',
];
const FIELDS_NEEDING_FREQ: readonly FieldName[] = [
  'until',
  'interval',
  'byday',
  'bymonthday',
  'byyearday',
  'byweekno',
  'bymonth',
];
const FREQS: readonly string[] = ['daily', 'weekly', 'monthly', 'yearly'] satisfies readonly Freq[];

interface Field {
  readonly name: FieldName;
  /** 1-based position in the recurrence. */
  readonly number: number;
  readonly value: string;
}

class FieldProblem extends Error {
  constructor(field: Field | { number: number; value: string }, why: string) {
    super(
      'name' in field
        ? `field ${field.number} (${field.name}) "${field.value}": ${why}`
        : `field ${field.number} "${field.value}": ${why}`,
    );
  }
}

export type RecurrenceParse = { ok: true; recurrence: Recurrence } | { ok: false; error: string };

/** Parses one recurrence (no operators); `defaultZone` applies when no timezone field names one. */
export function parseRecurrence(text: string, dialect: TimerecDialect, defaultZone: Zone): RecurrenceParse {
  try {
    return { ok: true, recurrence: buildRecurrence(text, dialect, defaultZone) };
  } catch (error) {
    if (error instanceof FieldProblem) return { ok: false, error: error.message };
    throw error;
  }
}

/**
 * 3.2: a first field starting with A–Z is a zone (time_rec.c `tr_parse_tz`);
 * an empty first field is the empty zone slot too, since `load_TR_value`
 * consumes it — the cfgutils tests pin `|20200605T115135` as a dtstart.
 */
function layoutOf(values: readonly string[], dialect: TimerecDialect): readonly FieldName[] {
  if (dialect === 'legacy') return LAYOUT_LEGACY;
  const first = values[0] ?? '';
  return first === '' || /^[A-Z]/.test(first) ? LAYOUT_32 : LAYOUT_32.slice(1);
}

function buildRecurrence(text: string, dialect: TimerecDialect, defaultZone: Zone): Recurrence {
  const values = text.split('|').map((value) => value.trim());
  const layout = layoutOf(values, dialect);
  if (values.length > layout.length) {
    const extra = values.slice(layout.length).join('|');
    throw new FieldProblem(
      { number: layout.length + 1, value: extra },
      `too many fields; the ${dialect} format ends with field ${layout.length} (bymonth)`,
    );
  }
  const fields = new Map<FieldName, Field>();
  values.forEach((value, index) => {
    const name = layout[index];
    if (name && value !== '') fields.set(name, { name, number: index + 1, value });
  });
  const numberOf = (name: FieldName): number => layout.indexOf(name) + 1;

  const zoneField = fields.get('timezone');
  let zone = defaultZone;
  if (zoneField) {
    const named = zoneNamed(zoneField.value);
    if (!named)
      throw new FieldProblem(
        zoneField,
        'unknown time zone; expected an IANA name such as Europe/London, America/New_York or UTC',
      );
    zone = named;
  }

  const startField = fields.get('dtstart');
  const start = startField ? dateTime(startField, startHint(startField.value, dialect)) : EPOCH_WALL_CLOCK;
  const endField = fields.get('dtend');
  const dtend = endField
    ? dateTime(
        endField,
        looksLikeDuration(endField.value) ? '; this is the legacy layout, insert an empty dtend after dtstart' : '',
      )
    : null;
  const durationField = fields.get('duration');
  const durationSeconds = durationField ? duration(durationField) : null;
  if (endField && durationField)
    throw new FieldProblem(durationField, `give dtend (field ${endField.number}) or duration, not both`);

  const freqField = fields.get('freq');
  const freq = freqField ? frequency(freqField) : null;
  for (const name of FIELDS_NEEDING_FREQ) {
    const field = fields.get(name);
    if (field && !freq) throw new FieldProblem(field, `needs a freq in field ${numberOf('freq')}`);
  }
  const untilField = fields.get('until');
  const until = untilField ? dateTime(untilField, '') : null;
  const intervalField = fields.get('interval');
  const interval = intervalField ? intervalOf(intervalField) : 1;
  const byMonth = numberList(fields.get('bymonth'), 12);
  const byWeekNo = numberList(fields.get('byweekno'), 53);
  const byWeekNoField = fields.get('byweekno');
  if (byWeekNoField && freq !== 'yearly')
    throw new FieldProblem(byWeekNoField, `needs freq yearly (field ${numberOf('freq')} is ${freqField?.value ?? ''})`);
  const byYearDay = numberList(fields.get('byyearday'), 366);
  const byMonthDay = numberList(fields.get('bymonthday'), 31);
  const ordinalScope = freq === 'monthly' || (freq === 'yearly' && byMonth) ? 'month' : 'year';
  const byDayField = fields.get('byday');
  const byDay = byDayField && freq ? byDayOf(byDayField, freq, ordinalScope) : null;

  if (dialect === 'legacy' && freqField && !durationSeconds) {
    throw new FieldProblem(
      freqField,
      `needs a non-zero duration in field ${numberOf('duration')}; without one a legacy recurrence matches forever from dtstart`,
    );
  }
  const unit = unitOf(freq, byDay, byMonthDay, byYearDay, byWeekNo, byMonth);
  let end: WallClock | null;
  if (dtend) {
    if (endField && dtend.wallMs < start.wallMs) throw new FieldProblem(endField, 'is before dtstart');
    end = dtend;
  } else if (durationSeconds !== null && (durationSeconds > 0 || dialect === 'opensips-3.2')) {
    end = wallClockAt(start.wallMs + durationSeconds * MS_PER_SECOND);
  } else if (dialect === 'opensips-3.2' && unit) {
    end = wallClockAt(endOfPeriod(start, unit));
  } else {
    end = null;
  }
  // Legacy until is exclusive of until + duration (3.1:time_rec.c:947).
  const untilWallMs =
    until && (dialect === 'legacy' ? until.wallMs + (durationSeconds ?? 0) * MS_PER_SECOND : until.wallMs);

  return Object.freeze({
    dialect,
    zone,
    start,
    startMs: instantOfWallClock(zone, start.wallMs),
    end,
    endMs: end ? instantOfWallClock(zone, end.wallMs) : Number.POSITIVE_INFINITY,
    durationSeconds: end ? (end.wallMs - start.wallMs) / MS_PER_SECOND : Number.POSITIVE_INFINITY,
    freq,
    untilMs: untilWallMs === null ? null : instantOfWallClock(zone, untilWallMs),
    interval,
    unit,
    windowFrom: unit ? periodPosition(unit, start.month, start.day, start.weekday, start.secondOfDay) : 0,
    windowTo: unit && end ? periodPosition(unit, end.month, end.day, end.weekday, end.secondOfDay) : 0,
    ordinalScope,
    byDay,
    byMonthDay,
    byYearDay,
    byWeekNo,
    byMonth,
  });
}

function startHint(value: string, dialect: TimerecDialect): string {
  if (!/^[a-z]/i.test(value)) return '';
  return dialect === 'legacy' ? '; the legacy format has no time-zone field' : '; a time zone must start with A-Z';
}

function looksLikeDuration(value: string): boolean {
  return parseDuration(value).ok;
}

function dateTime(field: Field, hint: string): WallClock {
  const parsed = parseDateTime(field.value);
  if (!parsed.ok) throw new FieldProblem(field, parsed.error + hint);
  return parsed.wallClock;
}

function duration(field: Field): number {
  const parsed = parseDuration(field.value);
  if (!parsed.ok) throw new FieldProblem(field, parsed.error);
  return parsed.seconds;
}

/** OpenSIPS reads any other word (secondly, hourly, a typo) as "no freq" without a word (time_rec.c `tr_parse_freq`). */
function frequency(field: Field): Freq {
  const lower = field.value.toLowerCase();
  if (!FREQS.includes(lower)) throw new FieldProblem(field, 'allowed daily, weekly, monthly, yearly');
  return lower as Freq;
}

/** OpenSIPS sums the digits ("12" is 3) and divides by zero on "0" (time_rec.c `strz2int`, `check_freq_interval`). */
function intervalOf(field: Field): number {
  if (!/^\d{1,6}$/.test(field.value) || Number(field.value) < 1)
    throw new FieldProblem(field, 'expected a whole number from 1 to 999999');
  return Number(field.value);
}

function numberList(field: Field | undefined, max: number): readonly number[] | null {
  if (!field) return null;
  const parsed = parseNumberList(field.value, max);
  if (!parsed.ok) throw new FieldProblem(field, parsed.error);
  return Object.freeze(parsed.items);
}

/**
 * Ordinals count weekdays of the month (monthly; yearly with bymonth, as
 * RFC 5545 §3.3.10) or of the year (yearly). A bare weekday under monthly or
 * yearly means "first" on 3.2 (`ic_parse_byday` makes it 0 like +1), never
 * matches on 3.1, and "every" in RFC 5545: too ambiguous to accept.
 */
function byDayOf(field: Field, freq: Freq, scope: 'month' | 'year'): readonly ByDay[] {
  const parsed = parseByDay(field.value);
  if (!parsed.ok) throw new FieldProblem(field, parsed.error);
  const most = scope === 'month' ? 5 : 53;
  for (const { weekday, ordinal } of parsed.items) {
    const day = weekdayName(weekday);
    if ((freq === 'daily' || freq === 'weekly') && ordinal !== 0) {
      throw new FieldProblem(
        field,
        `the ordinal of ${ordinal > 0 ? '+' : ''}${ordinal}${day} needs freq monthly or yearly`,
      );
    }
    if ((freq === 'monthly' || freq === 'yearly') && ordinal === 0) {
      throw new FieldProblem(
        field,
        `with freq ${freq} ${day} needs an ordinal (+1${day} is the first, -1${day} the last); for every ${day} use freq weekly`,
      );
    }
    if (Math.abs(ordinal) > most)
      throw new FieldProblem(
        field,
        `ordinal ${ordinal} is out of range; a ${scope} has at most ${most} of each weekday`,
      );
  }
  return Object.freeze(parsed.items);
}
