import { char, charNull, int, type RowOf, type TableSpec, uint, uintKey, uintNull } from './columns.js';

/**
 * OpenSIPS 3.x drouting tables (scripts/mysql/drouting-create.sql of the
 * 3.x branches: dr_gateways v6, dr_rules v4, dr_carriers v3, dr_groups v2),
 * the `version` table of standard-create.sql, and the OpenSIPS 1.5–1.7
 * `dr_gw_lists` table that the seed tutorial's `#1` refers to.
 */

export const versionTable = {
  name: 'version',
  columns: [char('table_name', 32), uint('table_version', 10, 0)],
  keyColumn: 'table_name',
  uniques: [{ name: 't_name_idx', columns: ['table_name'] }],
  indexes: [],
} as const satisfies TableSpec;

export const drGatewaysTable = {
  name: 'dr_gateways',
  version: 6,
  columns: [
    uintKey('id'),
    char('gwid', 64),
    uint('type', 11, 0),
    char('address', 128),
    uint('strip', 11, 0),
    charNull('pri_prefix', 16),
    charNull('attrs', 255),
    uint('probe_mode', 11, 0),
    uint('state', 11, 0),
    charNull('socket', 128),
    charNull('description', 128),
  ],
  keyColumn: 'id',
  labelColumn: 'gwid',
  uniques: [{ name: 'dr_gw_idx', columns: ['gwid'] }],
  indexes: [],
} as const satisfies TableSpec;

export const drRulesTable = {
  name: 'dr_rules',
  version: 4,
  columns: [
    uintKey('ruleid'),
    char('groupid', 255),
    char('prefix', 64),
    charNull('timerec', 255),
    int('priority', 0),
    charNull('routeid', 255),
    // NULL-able since OpenSIPS 3.2 (a rule that only runs its routeid).
    charNull('gwlist', 255),
    char('sort_alg', 1, 'N'),
    uintNull('sort_profile', 10),
    charNull('attrs', 255),
    charNull('description', 128),
  ],
  keyColumn: 'ruleid',
  uniques: [],
  indexes: [],
} as const satisfies TableSpec;

export const drCarriersTable = {
  name: 'dr_carriers',
  version: 3,
  columns: [
    uintKey('id'),
    char('carrierid', 64),
    char('gwlist', 255),
    uint('flags', 11, 0),
    char('sort_alg', 1, 'N'),
    uint('state', 11, 0),
    charNull('attrs', 255),
    charNull('description', 128),
  ],
  keyColumn: 'id',
  labelColumn: 'carrierid',
  uniques: [{ name: 'dr_carrier_idx', columns: ['carrierid'] }],
  indexes: [],
} as const satisfies TableSpec;

export const drGroupsTable = {
  name: 'dr_groups',
  version: 2,
  columns: [
    uintKey('id'),
    char('username', 64),
    charNull('domain', 128),
    uint('groupid', 11, 0),
    charNull('description', 128),
  ],
  keyColumn: 'id',
  labelColumn: 'username',
  uniques: [],
  indexes: [],
} as const satisfies TableSpec;

export const drGwListsTable = {
  name: 'dr_gw_lists',
  version: 1,
  columns: [uintKey('id'), char('gwlist', 255), char('description', 128, '')],
  keyColumn: 'id',
  uniques: [],
  indexes: [],
} as const satisfies TableSpec;

export type DrGatewayRow = RowOf<typeof drGatewaysTable>;
export type DrRuleRow = RowOf<typeof drRulesTable>;
export type DrCarrierRow = RowOf<typeof drCarriersTable>;
export type DrGroupRow = RowOf<typeof drGroupsTable>;
export type DrGwListRow = RowOf<typeof drGwListsTable>;
