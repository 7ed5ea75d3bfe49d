import { describe, expect, it } from 'vitest';
import { KeyedReportThrottle, ReportThrottle } from '../../../src/core/report-throttle.js';

describe('ReportThrottle', () => {
  it('admits the first report, holds back the rest of the interval, then says how many it held back', () => {
    const throttle = new ReportThrottle(5000);
    const admitted = [0, 1000, 4999, 5000, 5001, 12000].map((at) => throttle.admit(at));
    expect(admitted).toEqual([0, undefined, undefined, 2, undefined, 1]);
  });
});

describe('KeyedReportThrottle', () => {
  it('admits each key once per interval, apart from the others', () => {
    const throttle = new KeyedReportThrottle(1000, 10);
    const admitted = (
      [
        ['1001/useragent', 0],
        ['1001/useragent', 500],
        ['1001/fullcontact', 500],
        ['1002/useragent', 600],
        ['1001/useragent', 999],
        ['1001/useragent', 1000],
      ] as const
    ).map(([key, at]) => throttle.admit(key, at));
    expect(admitted).toEqual([true, false, true, true, false, true]);
  });

  it('forgets the oldest key beyond its bound, which may then be said again early', () => {
    const throttle = new KeyedReportThrottle(1000, 2);
    expect([
      throttle.admit('a', 0),
      throttle.admit('b', 1),
      throttle.admit('c', 2),
      throttle.admit('b', 3),
      throttle.admit('a', 4),
    ]).toEqual([true, true, true, false, true]);
  });
});
