import { describe, expect, it } from 'vitest';
import { parseTimerec } from '../../../../../src/routing/core/timerec/index.js';

function compile(text: string) {
  const parsed = parseTimerec(text, { dialect: 'opensips-3.2', defaultTimeZone: 'UTC' });
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.timerec;
}

describe('timerec public API', () => {
  it('keeps the source text exactly as given', () => {
    expect(compile(' 20040101T083000||10H|weekly|||MO ').source).toBe(' 20040101T083000||10H|weekly|||MO ');
  });

  it('returns a frozen object', () => {
    const timerec = compile('20040101T083000||10H|weekly|||MO');
    expect(Object.isFrozen(timerec)).toBe(true);
  });

  it('compares whole seconds, as time_t does: until+0.5s still matches an inclusive until', () => {
    const timerec = compile('20040101T083000||10H|daily|20040110T083000');
    expect([
      timerec.matches(new Date('2004-01-10T08:30:00.500Z')),
      timerec.matches(new Date('2004-01-10T08:30:01.000Z')),
    ]).toEqual([true, false]);
  });

  it('throws on an invalid Date, a caller bug', () => {
    const timerec = compile('20040101T083000');
    expect(() => timerec.matches(new Date(Number.NaN))).toThrow(RangeError);
  });

  it('gives the same answer when asked again for the same instant', () => {
    const timerec = compile('Europe/Amsterdam|20260101T080000||10H|daily');
    const at = new Date('2026-03-29T06:00:00Z');
    expect([
      timerec.matches(at),
      timerec.matches(at),
      timerec.matches(new Date('2026-03-29T05:59:59Z')),
      timerec.matches(at),
    ]).toEqual([true, true, false, true]);
  });
});
