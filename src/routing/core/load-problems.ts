import type { RowProblem } from '../../errors.js';
import type { TableSpec } from '../../core/model/columns.js';
import { rowLabel } from '../../core/model/decode-rows.js';

/**
 * Collects what a snapshot build finds, each naming the table, the row, the
 * column and the value: errors (the snapshot is not used), rows skipped
 * (left out, as OpenSIPS leaves them out; with routing.strict the snapshot
 * is refused) and warnings (loaded anyway, worth a look).
 */
export class LoadProblems {
  readonly errors: RowProblem[] = [];
  readonly skipped: RowProblem[] = [];
  readonly warnings: RowProblem[] = [];

  error(table: TableSpec, row: Readonly<Record<string, unknown>>, column: string, problem: string): void {
    this.errors.push(problemOf(table, row, column, problem));
  }

  /** The row is left out of the snapshot; `problem` says why. */
  skip(table: TableSpec, row: Readonly<Record<string, unknown>>, column: string, problem: string): void {
    this.skipped.push(problemOf(table, row, column, `${problem}: row skipped`));
  }

  warn(table: TableSpec, row: Readonly<Record<string, unknown>>, column: string, problem: string): void {
    this.warnings.push(problemOf(table, row, column, problem));
  }
}

function problemOf(
  table: TableSpec,
  row: Readonly<Record<string, unknown>>,
  column: string,
  problem: string,
): RowProblem {
  return { table: table.name, row: rowLabel(table, row), column, value: row[column], problem };
}
