import type { TableSpec } from './columns.js';
import {
  drCarriersTable,
  drGatewaysTable,
  drGroupsTable,
  drGwListsTable,
  drRulesTable,
  versionTable,
} from './drouting-tables.js';
import { addressTable } from './address-table.js';
import { sharedValuesTable } from './shared-values-table.js';
import { sippeersTable } from './sippeers-table.js';

/** Every table sip-drouter reads or creates, in creation order. */
export const ALL_TABLES: readonly TableSpec[] = [
  versionTable,
  drGatewaysTable,
  drRulesTable,
  drCarriersTable,
  drGroupsTable,
  drGwListsTable,
  sippeersTable,
  sharedValuesTable,
  addressTable,
];
