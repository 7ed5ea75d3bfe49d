import type { TableSpec } from '../../core/model/columns.js';
import type { LoadProblems } from './load-problems.js';
import type { SortAlgorithm } from './routing-table.js';

/**
 * sort_alg of dr_rules and dr_carriers. OpenSIPS 3.x reads any letter but
 * N, W and Q (case matters: `w` too) as N without a word (dr_get_sort_alg);
 * here it is N with a warning. Q (qrouting) needs live call statistics
 * sip-drouter does not keep: loaded as N, with a warning.
 */
export function readSortAlgorithm(
  table: TableSpec,
  row: Readonly<Record<string, unknown>> & { sort_alg: string },
  problems: LoadProblems,
): SortAlgorithm {
  switch (row.sort_alg) {
    case 'N':
    case 'W':
      return row.sort_alg;
    case 'Q':
      problems.warn(
        table,
        row,
        'sort_alg',
        'Q (quality-based, OpenSIPS qrouting) is not supported: the list keeps its order (N)',
      );
      return 'N';
    default:
      problems.warn(
        table,
        row,
        'sort_alg',
        'is not N, W or Q (upper case): read as N (list order), as OpenSIPS 3.x reads it',
      );
      return 'N';
  }
}
