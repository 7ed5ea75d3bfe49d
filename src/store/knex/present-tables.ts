import type { Knex } from 'knex';
import type { ColumnHolds, PresentColumn, PresentTables } from '../../core/model/table-layouts.js';
import type { Dialect } from './connect.js';

/**
 * The columns of the named tables (and views) as the database declares
 * them: information_schema.COLUMNS on MySQL/MariaDB, PRAGMA table_info on
 * SQLite. A table the database lacks is not in the map.
 */
export async function readPresentTables(
  knex: Knex,
  dialect: Dialect,
  names: readonly string[],
): Promise<PresentTables> {
  const rows = dialect === 'mysql' ? await mysqlColumns(knex, names) : await sqliteColumns(knex, names);
  const tables = new Map<string, Map<string, PresentColumn>>();
  for (const row of rows) {
    let columns = tables.get(row.table);
    if (!columns) tables.set(row.table, (columns = new Map<string, PresentColumn>()));
    // Both databases match column names without regard to case; the reader selects them by their own spelling.
    columns.set(row.column.toLowerCase(), { name: row.column, sqlType: row.sqlType, holds: row.holds });
  }
  return tables;
}

interface ColumnRow {
  table: string;
  column: string;
  sqlType: string;
  holds: ColumnHolds;
}

async function mysqlColumns(knex: Knex, names: readonly string[]): Promise<ColumnRow[]> {
  const records = (await knex('information_schema.COLUMNS')
    .select({ table: 'TABLE_NAME', column: 'COLUMN_NAME', dataType: 'DATA_TYPE', columnType: 'COLUMN_TYPE' })
    .whereRaw('TABLE_SCHEMA = DATABASE()')
    .whereIn('TABLE_NAME', [...names])) as { table: string; column: string; dataType: string; columnType: string }[];
  return records.map((r) => ({
    table: r.table,
    column: r.column,
    sqlType: r.columnType,
    holds: mysqlHolds(r.dataType),
  }));
}

const MYSQL_INTEGERS = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint']);
const MYSQL_TEXTS = new Set(['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'enum']);

/** By DATA_TYPE: binary strings, blobs, numbers with fractions, dates and the rest hold nothing we read. */
function mysqlHolds(dataType: string): ColumnHolds {
  const type = dataType.toLowerCase();
  if (MYSQL_INTEGERS.has(type)) return 'integer';
  if (MYSQL_TEXTS.has(type)) return 'text';
  return 'other';
}

async function sqliteColumns(knex: Knex, names: readonly string[]): Promise<ColumnRow[]> {
  const records = await knex.raw<{ table: string; column: string; sqlType: string }[]>(
    `SELECT m.name AS "table", p.name AS "column", p.type AS "sqlType"
       FROM sqlite_master AS m, pragma_table_info(m.name) AS p
      WHERE m.type IN ('table', 'view') AND m.name IN (${names.map(() => '?').join(', ')})`,
    [...names],
  );
  return records.map((r) => ({ ...r, holds: sqliteHolds(r.sqlType) }));
}

/**
 * SQLite's own affinity rules (https://sqlite.org/datatype3.html §3.1): a
 * declared type with INT holds integers; CHAR, CLOB or TEXT text; none at
 * all, or NUMERIC affinity, whatever it was given (the values are checked
 * row by row); BLOB and REAL hold nothing we read.
 */
function sqliteHolds(declared: string): ColumnHolds {
  const type = declared.toUpperCase();
  if (type.includes('INT')) return 'integer';
  if (/CHAR|CLOB|TEXT/.test(type)) return 'text';
  if (type.includes('BLOB') || /REAL|FLOA|DOUB/.test(type)) return 'other';
  return 'any';
}
