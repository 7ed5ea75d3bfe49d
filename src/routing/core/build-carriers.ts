import type { TableSpec } from '../../core/model/columns.js';
import {
  type DrCarrierRow,
  type DrGwListRow,
  drCarriersTable,
  drGwListsTable,
} from '../../core/model/drouting-tables.js';
import { type GwListGrammar, parseGwList } from './gateway-list.js';
import type { LoadProblems } from './load-problems.js';
import type { Carrier, Gateway, WeightedGateway } from './routing-table.js';
import { qualifiedId } from './partitions.js';
import { readSortAlgorithm } from './sort-algorithm.js';

const CARRIER_FIRST_ONLY = 0x1;
const CARRIER_DISABLED = 0x2;

/**
 * A list that may name gateways only (a carrier's, or a dr_gw_lists row's),
 * read as OpenSIPS 3.x add_carrier reads it: a list that does not parse, or
 * that names a carrier already loaded, leaves the row out (undefined); an
 * unknown id is dropped from the list with a warning; an empty list is a
 * list of nothing.
 */
function resolveGatewayOnlyList(
  table: TableSpec,
  row: Readonly<Record<string, unknown>>,
  text: string,
  lookup: { gateways: ReadonlyMap<string, Gateway>; carriers: ReadonlyMap<string, Carrier>; grammar: GwListGrammar },
  problems: LoadProblems,
): WeightedGateway[] | undefined {
  const parsed = parseGwList(text, lookup.grammar);
  if (!parsed.ok) {
    problems.skip(table, row, 'gwlist', parsed.error);
    return undefined;
  }
  const members: WeightedGateway[] = [];
  for (const item of parsed.items) {
    if (item.isReference) {
      if (lookup.carriers.has(item.id) || table === drGwListsTable) {
        problems.skip(
          table,
          row,
          'gwlist',
          `#${item.id}: this list may name gateways only, not another carrier or list`,
        );
        return undefined;
      }
      problems.warn(table, row, 'gwlist', `#${item.id}: no such carrier (yet): left out of the list`);
      continue;
    }
    const gateway = lookup.gateways.get(item.id);
    if (gateway) members.push({ gateway, weight: item.weight });
    else
      problems.warn(
        table,
        row,
        'gwlist',
        `gateway ${item.id} is not in dr_gateways (or its row was skipped): left out of the list`,
      );
  }
  if (text.trim() === '') problems.warn(table, row, 'gwlist', 'is empty: it offers no gateway');
  return members;
}

/** Keyed by the row's carrierid; the carrier's own carrierid is qualified by its partition. */
export function buildCarriers(
  rows: readonly DrCarrierRow[],
  gateways: ReadonlyMap<string, Gateway>,
  grammar: GwListGrammar,
  problems: LoadProblems,
  partition: string,
): Map<string, Carrier> {
  const carriers = new Map<string, Carrier>();
  for (const row of rows) {
    if (carriers.has(row.carrierid)) {
      problems.skip(
        drCarriersTable,
        row,
        'carrierid',
        `carrier ${row.carrierid} is already loaded from an earlier row`,
      );
      continue;
    }
    const members = resolveGatewayOnlyList(drCarriersTable, row, row.gwlist, { gateways, carriers, grammar }, problems);
    if (!members) continue;
    const sortAlg = readSortAlgorithm(drCarriersTable, row, problems);
    const unknownFlags = row.flags & ~(CARRIER_FIRST_ONLY | CARRIER_DISABLED);
    if (unknownFlags !== 0) {
      problems.warn(
        drCarriersTable,
        row,
        'flags',
        `bits 0x${unknownFlags.toString(16)} mean nothing since OpenSIPS 3.1 (0x1 first only, 0x2 disabled; 1.8-3.0 data used other bits)`,
      );
    }
    if ((row.flags & CARRIER_DISABLED) !== 0 && row.state === 0) {
      problems.warn(
        drCarriersTable,
        row,
        'flags',
        'bit 0x2 (disabled) is overwritten by state 0 at load, as in OpenSIPS 3.x: the carrier is enabled',
      );
    }
    carriers.set(row.carrierid, {
      id: row.id,
      carrierid: qualifiedId(partition, row.carrierid),
      members,
      sortAlg,
      firstOnly: (row.flags & CARRIER_FIRST_ONLY) !== 0,
      // OpenSIPS 3.x add_carrier: `if (state!=0) flags|=IS_OFF; else flags&=~IS_OFF`.
      enabled: row.state === 0,
      attrs: row.attrs,
    });
  }
  return carriers;
}

/** OpenSIPS 1.x dr_gw_lists rows, keyed by id as `#N` names them. */
export function buildGatewayLists(
  rows: readonly DrGwListRow[],
  gateways: ReadonlyMap<string, Gateway>,
  grammar: GwListGrammar,
  problems: LoadProblems,
): Map<string, WeightedGateway[]> {
  const lists = new Map<string, WeightedGateway[]>();
  for (const row of rows) {
    const members = resolveGatewayOnlyList(
      drGwListsTable,
      row,
      row.gwlist,
      { gateways, carriers: new Map(), grammar },
      problems,
    );
    if (members) lists.set(String(row.id), members);
  }
  return lists;
}
