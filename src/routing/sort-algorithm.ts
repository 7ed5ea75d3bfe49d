import type { TableSpec } from '../model/columns.js';
import type { LoadProblems } from './load-problems.js';
import type { SortAlgorithm } from './routing-table.js';

/**
 * sort_alg of dr_rules and dr_carriers. OpenSIPS reads any unknown letter
 * as N without a word; here it is an error. Q (qrouting) needs live call
 * statistics sip-drouter does not keep: loaded as N, with a warning.
 */
export function readSortAlgorithm(
  table: TableSpec,
  row: Readonly<Record<string, unknown>> & { sort_alg: string },
  problems: LoadProblems,
): SortAlgorithm | undefined {
  switch (row.sort_alg) {
    case 'N':
    case 'W':
      return row.sort_alg;
    case 'Q':
      problems.warn(table, row, 'sort_alg', 'Q (quality-based, OpenSIPS qrouting) is not supported: the list keeps its order (N)');
      return 'N';
    default:
      problems.error(table, row, 'sort_alg', 'allowed: N (list order), W (weighted random order), Q (read as N)');
      return undefined;
  }
}
