import type { Knex } from 'knex';
import { DrouterError } from '../../errors.js';
import {
  exampleGateways,
  exampleGroups,
  exampleGwLists,
  examplePeers,
  exampleRules,
} from '../../core/model/example-data.js';
import { drGatewaysTable, drGroupsTable, drGwListsTable, drRulesTable } from '../../core/model/drouting-tables.js';
import { sippeersTable } from '../../core/model/sippeers-table.js';

export interface SeedSummary {
  gateways: number;
  gwLists: number;
  rules: number;
  groups: number;
  peers: number;
}

/**
 * Loads the tutorial's example into empty tables, in one transaction.
 * Refuses to touch a table that already has rows: seeding must never mix
 * with an operator's data.
 */
export async function seedExample(knex: Knex): Promise<SeedSummary> {
  const plan = [
    [drGatewaysTable.name, exampleGateways],
    [drGwListsTable.name, exampleGwLists],
    [drRulesTable.name, exampleRules],
    [drGroupsTable.name, exampleGroups],
    [sippeersTable.name, examplePeers],
  ] as const;
  await knex.transaction(async (trx) => {
    for (const [table] of plan) {
      const [row] = await trx(table).count({ count: '*' });
      if (Number(row?.count ?? 0) > 0) {
        throw new DrouterError(
          'DROUTER_ERR_SEED',
          `seed: table ${table} already has rows; the example is only loaded into empty tables`,
        );
      }
    }
    for (const [table, rows] of plan) await trx(table).insert(rows);
  });
  return {
    gateways: exampleGateways.length,
    gwLists: exampleGwLists.length,
    rules: exampleRules.length,
    groups: exampleGroups.length,
    peers: examplePeers.length,
  };
}
