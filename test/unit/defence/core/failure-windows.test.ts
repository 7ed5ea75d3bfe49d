import { describe, expect, it } from 'vitest';
import { FailureWindows } from '../../../../src/defence/core/failure-windows.js';

describe('FailureWindows', () => {
  it('counts failures within a window and starts again after it', () => {
    const windows = new FailureWindows(60_000, 10);
    expect([0, 1000, 59_999].map((at) => windows.add('a', at))).toEqual([1, 2, 3]);
    expect(windows.add('a', 60_000)).toBe(1);
  });

  it('forgets a cleared key and the oldest past maxKeys', () => {
    const windows = new FailureWindows(60_000, 2);
    windows.add('a', 0);
    windows.add('a', 0);
    windows.clear('a');
    expect(windows.add('a', 1)).toBe(1);
    windows.add('b', 2);
    windows.add('c', 3);
    expect(windows.add('a', 4)).toBe(1);
  });
});
