import type { RowProblem } from '../../errors.js';
import type { ColumnSpec, RowOf, TableSpec } from './columns.js';

export interface DecodedRows<T extends TableSpec> {
  rows: RowOf<T>[];
  /** One entry per wrong value; a row with any problem is not in `rows`. */
  problems: RowProblem[];
}

/**
 * Checks raw database records against the table's columns. SQLite stores
 * whatever it is given (`strip = 'abc'` stays text), and MySQL in non-strict
 * mode is not much better, so every value is checked here once.
 *
 * The records are the caller's, fresh from the driver: values are converted
 * in place (a million rules are not copied into a second set of objects).
 */
export function decodeRows<T extends TableSpec>(table: T, records: Record<string, unknown>[]): DecodedRows<T> {
  const rows: RowOf<T>[] = [];
  const problems: RowProblem[] = [];
  for (const record of records) {
    const before = problems.length;
    for (const column of table.columns) {
      const raw = record[column.name];
      const result = decodeValue(column, raw);
      if (typeof result === 'object' && result !== null) {
        problems.push({
          table: table.name,
          row: rowLabel(table, record),
          column: column.name,
          value: raw,
          problem: result.problem,
        });
      } else if (result !== raw) {
        record[column.name] = result;
      }
    }
    if (problems.length === before) rows.push(record as RowOf<T>);
  }
  return { rows, problems };
}

/** How a row is named in messages: `id=3 (gwid "gw3")`. */
export function rowLabel(table: TableSpec, record: Readonly<Record<string, unknown>>): string {
  const key = `${table.keyColumn}=${String(record[table.keyColumn])}`;
  if (!table.labelColumn) return key;
  return `${key} (${table.labelColumn} ${JSON.stringify(record[table.labelColumn])})`;
}

type Decoded = string | number | null | { problem: string };

function decodeValue(column: ColumnSpec, value: unknown): Decoded {
  if (value === null || value === undefined) {
    return column.nullable ? null : { problem: 'is NULL, but the column is NOT NULL' };
  }
  switch (column.kind) {
    case 'int':
    case 'uint':
      return decodeInteger(column, value);
    case 'text':
      return decodeText(value);
    case 'enum':
      return decodeEnum(column, value);
  }
}

function decodeInteger(column: ColumnSpec, value: unknown): Decoded {
  const number =
    typeof value === 'number' || typeof value === 'bigint'
      ? Number(value)
      : typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)
        ? Number(value)
        : Number.NaN;
  if (!Number.isSafeInteger(number)) return { problem: `is not an integer (column type ${column.mysqlType})` };
  if (column.kind === 'uint' && number < 0) return { problem: `is negative (column type ${column.mysqlType})` };
  return number;
}

function decodeText(value: unknown): Decoded {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return { problem: `is a ${typeof value}, not text` };
}

function decodeEnum(column: ColumnSpec, value: unknown): Decoded {
  const allowed = column.enumValues ?? [];
  if (typeof value === 'string' && allowed.includes(value)) return value;
  return { problem: `is not one of ${allowed.join(', ')}` };
}
