import { describe, expect, it } from 'vitest';
import { ReportThrottle } from '../../src/report-throttle.js';

describe('ReportThrottle', () => {
  it('admits the first report, holds back the rest of the interval, then says how many it held back', () => {
    const throttle = new ReportThrottle(5000);
    const admitted = [0, 1000, 4999, 5000, 5001, 12000].map((at) => throttle.admit(at));
    expect(admitted).toEqual([0, undefined, undefined, 2, undefined, 1]);
  });
});
