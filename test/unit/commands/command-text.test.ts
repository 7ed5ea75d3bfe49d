import { describe, expect, it } from 'vitest';
import { rttText } from '../../../src/commands/admin-commands.js';
import { problemTally } from '../../../src/routing/core/load-summary.js';
import { plural } from '../../../src/core/plural.js';

describe('text the commands print', () => {
  it('gives a probe round trip two significant digits below 10 ms, whole milliseconds above', () => {
    expect([8.482229000001098, 0.8423, 0.04213, 1, 9.96, 12.7, 1234.5].map(rttText)).toEqual([
      '8.5 ms',
      '0.84 ms',
      '0.042 ms',
      '1 ms',
      '10 ms',
      '13 ms',
      '1235 ms',
    ]);
  });

  it('says one warning, two warnings, no rows', () => {
    expect([plural(1, 'warning'), plural(2, 'warning'), plural(0, 'row'), plural(1, 'gateway list')]).toEqual([
      '1 warning',
      '2 warnings',
      '0 rows',
      '1 gateway list',
    ]);
    expect(problemTally({ errors: [], skipped: ['a'], warnings: ['a', 'b'] })).toBe(
      '0 errors, 1 row skipped, 2 warnings',
    );
    expect(problemTally({ errors: ['a'], skipped: [], warnings: ['a'] })).toBe('1 error, 0 rows skipped, 1 warning');
  });
});
