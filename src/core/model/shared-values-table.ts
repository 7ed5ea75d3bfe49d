import { char, type RowOf, type TableSpec } from './columns.js';

/**
 * sip-drouter's own table: values every node of a pair agrees on and keeps
 * across restarts, the first node's candidate winning (the secret of the
 * nonces and of the dialog tokens). Not an OpenSIPS or Asterisk table.
 */
export const sharedValuesTable = {
  name: 'drouter_shared',
  columns: [char('name', 64), char('value', 255)],
  keyColumn: 'name',
  uniques: [{ name: 'drouter_shared_name_idx', columns: ['name'] }],
  indexes: [],
} as const satisfies TableSpec;

export type SharedValueRow = RowOf<typeof sharedValuesTable>;
