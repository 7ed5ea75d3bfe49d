import { char, charNull, type ColumnSpec, type RowOf, type TableSpec, uintKey } from './columns.js';

/**
 * OpenSIPS's permissions `address` table (scripts/mysql/permissions-create.sql
 * of 3.x, version 5): the sources an operator trusts (SBCs, PBXs). A
 * request from `ip`/`mask` (and `port`, `proto` when set) is not challenged;
 * `grp` picks the rows that count (auth.addressGroups), `pattern` and
 * `context_info` are kept for OpenSIPS and not read.
 */

function sized<const N extends string, K extends 'int' | 'uint'>(
  name: N,
  kind: K,
  mysqlType: string,
  defaultValue: number,
): ColumnSpec<N, K, false> {
  return { name, kind, nullable: false, mysqlType, defaultValue };
}

export const addressTable = {
  name: 'address',
  version: 5,
  columns: [
    uintKey('id'),
    sized('grp', 'uint', 'smallint(5) unsigned', 0),
    char('ip', 50),
    sized('mask', 'int', 'tinyint(4)', 32),
    sized('port', 'uint', 'smallint(5) unsigned', 0),
    char('proto', 4, 'any'),
    charNull('pattern', 64),
    charNull('context_info', 32),
  ],
  keyColumn: 'id',
  uniques: [],
  indexes: [],
} as const satisfies TableSpec;

export type AddressRow = RowOf<typeof addressTable>;
