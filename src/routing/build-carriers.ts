import type { TableSpec } from '../model/columns.js';
import { type DrCarrierRow, type DrGwListRow, drCarriersTable, drGwListsTable } from '../model/drouting-tables.js';
import { parseGwList } from './gateway-list.js';
import type { LoadProblems } from './load-problems.js';
import type { Carrier, Gateway, SortAlgorithm, WeightedGateway } from './routing-table.js';
import { readSortAlgorithm } from './sort-algorithm.js';

const CARRIER_FIRST_ONLY = 0x1;
const CARRIER_DISABLED = 0x2;

/**
 * A list that may name gateways only (a carrier's, or a dr_gw_lists row's).
 * Returns undefined, with the problems reported, when any item is wrong.
 */
function resolveGatewayOnlyList(
  table: TableSpec,
  row: Readonly<Record<string, unknown>>,
  text: string,
  gateways: ReadonlyMap<string, Gateway>,
  problems: LoadProblems,
): WeightedGateway[] | undefined {
  const parsed = parseGwList(text);
  if (!parsed.ok) {
    problems.error(table, row, 'gwlist', parsed.error);
    return undefined;
  }
  const members: WeightedGateway[] = [];
  let failed = false;
  for (const item of parsed.items) {
    const gateway = gateways.get(item.id);
    if (item.isReference) {
      problems.error(table, row, 'gwlist', `#${item.id}: this list may name gateways only, not another carrier or list`);
      failed = true;
    } else if (!gateway) {
      problems.error(table, row, 'gwlist', `gateway ${item.id} is not in dr_gateways (or its row is wrong)`);
      failed = true;
    } else {
      members.push({ gateway, weight: item.weight });
    }
  }
  return failed ? undefined : members;
}

export function buildCarriers(rows: readonly DrCarrierRow[], gateways: ReadonlyMap<string, Gateway>, problems: LoadProblems): Map<string, Carrier> {
  const carriers = new Map<string, Carrier>();
  for (const row of rows) {
    if (carriers.has(row.carrierid)) {
      problems.error(drCarriersTable, row, 'carrierid', 'another carrier has the same carrierid');
      continue;
    }
    const members = resolveGatewayOnlyList(drCarriersTable, row, row.gwlist, gateways, problems);
    const sortAlg: SortAlgorithm | undefined = readSortAlgorithm(drCarriersTable, row, problems);
    const unknownFlags = row.flags & ~(CARRIER_FIRST_ONLY | CARRIER_DISABLED);
    if (unknownFlags !== 0) {
      problems.warn(drCarriersTable, row, 'flags', `bits 0x${unknownFlags.toString(16)} mean nothing since OpenSIPS 3.1 (0x1 first only, 0x2 disabled; 1.8-3.0 data used other bits)`);
    }
    if (!members || !sortAlg) continue;
    carriers.set(row.carrierid, {
      id: row.id,
      carrierid: row.carrierid,
      members,
      sortAlg,
      firstOnly: (row.flags & CARRIER_FIRST_ONLY) !== 0,
      enabled: (row.flags & CARRIER_DISABLED) === 0 && row.state === 0,
      attrs: row.attrs,
    });
  }
  return carriers;
}

/** OpenSIPS 1.x dr_gw_lists rows, keyed by id as `#N` names them. */
export function buildGatewayLists(rows: readonly DrGwListRow[], gateways: ReadonlyMap<string, Gateway>, problems: LoadProblems): Map<string, WeightedGateway[]> {
  const lists = new Map<string, WeightedGateway[]>();
  for (const row of rows) {
    const members = resolveGatewayOnlyList(drGwListsTable, row, row.gwlist, gateways, problems);
    if (members) lists.set(String(row.id), members);
  }
  return lists;
}
