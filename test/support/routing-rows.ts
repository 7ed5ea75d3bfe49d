import type {
  DrCarrierRow,
  DrGatewayRow,
  DrGroupRow,
  DrGwListRow,
  DrRuleRow,
} from '../../src/core/model/drouting-tables.js';
import type { RoutingRows } from '../../src/core/model/routing-rows.js';
import { type RoutingBuildOptions, buildRoutingTable } from '../../src/routing/core/build-routing-table.js';
import type { RoutingTable } from '../../src/routing/core/routing-table.js';

/** Row factories: a valid row of each table, overridden where a test cares. */

let nextId = 1000;

export function gatewayRow(gwid: string, overrides: Partial<DrGatewayRow> = {}): DrGatewayRow {
  return {
    id: nextId++,
    gwid,
    type: 0,
    address: `127.0.0.${(nextId % 200) + 2}:5060`,
    strip: 0,
    pri_prefix: null,
    attrs: null,
    probe_mode: 0,
    state: 0,
    socket: null,
    description: null,
    ...overrides,
  };
}

export function ruleRow(ruleid: number, prefix: string, gwlist: string, overrides: Partial<DrRuleRow> = {}): DrRuleRow {
  return {
    ruleid,
    groupid: '0',
    prefix,
    timerec: null,
    priority: 0,
    routeid: null,
    gwlist,
    sort_alg: 'N',
    sort_profile: null,
    attrs: null,
    description: null,
    ...overrides,
  };
}

export function carrierRow(carrierid: string, gwlist: string, overrides: Partial<DrCarrierRow> = {}): DrCarrierRow {
  return {
    id: nextId++,
    carrierid,
    gwlist,
    flags: 0,
    sort_alg: 'N',
    state: 0,
    attrs: null,
    description: null,
    ...overrides,
  };
}

export function groupRow(
  username: string,
  domain: string | null,
  groupid: number,
  overrides: Partial<DrGroupRow> = {},
): DrGroupRow {
  return { id: nextId++, username, domain, groupid, description: null, ...overrides };
}

export function gwListRow(id: number, gwlist: string): DrGwListRow {
  return { id, gwlist, description: '' };
}

export function rows(parts: Partial<RoutingRows>): RoutingRows {
  return { gateways: [], rules: [], carriers: [], groups: [], gwLists: [], problems: [], ...parts };
}

export const BUILD_OPTIONS: RoutingBuildOptions = {
  hashRefers: 'auto',
  useDomain: true,
  extraPrefixChars: '',
  timerec: { dialect: 'opensips-3.2', defaultTimeZone: 'UTC' },
  dialect: 'opensips-3',
  strict: false,
  repeatGateways: 'as-listed',
  zeroWeightOrder: 'list',
  localSockets: { address: '127.0.0.1', port: 5060, transports: ['udp', 'tcp'] },
};

/** Builds a table that must build; fails the test with the errors otherwise. */
export function tableOf(parts: Partial<RoutingRows>, options: Partial<RoutingBuildOptions> = {}): RoutingTable {
  const built = buildRoutingTable(rows(parts), { ...BUILD_OPTIONS, ...options });
  if (!built.ok) throw new Error(`routing table does not build:\n${JSON.stringify(built.errors, null, 2)}`);
  return built.table;
}
