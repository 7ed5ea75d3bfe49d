import { char, charNull, type RowOf, type TableSpec, uintKey } from './columns.js';

/**
 * OpenSIPS's dr_partitions (scripts/mysql/drouting-create.sql of 3.x,
 * version 1): one routing data set per row, its tables perhaps in another
 * database. The *_avp columns name OpenSIPS script variables and are not
 * read. db_url is NOT NULL in the DDL, yet OpenSIPS reads NULL or '' as
 * "the database of dr_partitions itself" (drouting.c get_config_from_db),
 * so it is read as nullable here.
 */
export const drPartitionsTable = {
  name: 'dr_partitions',
  version: 1,
  columns: [
    uintKey('id'),
    char('partition_name', 255),
    charNull('db_url', 255),
    charNull('drd_table', 255),
    charNull('drr_table', 255),
    charNull('drg_table', 255),
    charNull('drc_table', 255),
  ],
  keyColumn: 'id',
  labelColumn: 'partition_name',
  uniques: [],
  indexes: [],
} as const satisfies TableSpec;

export type DrPartitionRow = RowOf<typeof drPartitionsTable>;
