import type { RowProblem } from '../errors.js';
import type { TableSpec } from '../model/columns.js';
import { rowLabel } from '../model/decode-rows.js';

/**
 * Collects what a snapshot build finds wrong (errors: the snapshot is not
 * used) and worth a look (warnings: loaded anyway), each naming the table,
 * the row, the column and the value.
 */
export class LoadProblems {
  readonly errors: RowProblem[] = [];
  readonly warnings: RowProblem[] = [];

  error(table: TableSpec, row: Readonly<Record<string, unknown>>, column: string, problem: string): void {
    this.errors.push(problemOf(table, row, column, problem));
  }

  warn(table: TableSpec, row: Readonly<Record<string, unknown>>, column: string, problem: string): void {
    this.warnings.push(problemOf(table, row, column, problem));
  }
}

function problemOf(table: TableSpec, row: Readonly<Record<string, unknown>>, column: string, problem: string): RowProblem {
  return { table: table.name, row: rowLabel(table, row), column, value: row[column], problem };
}
