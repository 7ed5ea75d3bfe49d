import type { DrGatewayRow } from '../model/drouting-tables.js';
import { drGatewaysTable } from '../model/drouting-tables.js';
import { parseGatewayAddress } from './gateway-address.js';
import { ID_PATTERN } from './gateway-list.js';
import type { LoadProblems } from './load-problems.js';
import { GATEWAY_STATE_BY_COLUMN, type Gateway } from './routing-table.js';

function isProbeMode(value: number): value is 0 | 1 | 2 {
  return value === 0 || value === 1 || value === 2;
}

export function buildGateways(rows: readonly DrGatewayRow[], problems: LoadProblems): Map<string, Gateway> {
  const gateways = new Map<string, Gateway>();
  for (const row of rows) {
    const before = problems.errors.length;
    if (!ID_PATTERN.test(row.gwid)) problems.error(drGatewaysTable, row, 'gwid', 'a gateway id is letters, digits, _ - .');
    if (gateways.has(row.gwid)) problems.error(drGatewaysTable, row, 'gwid', 'another gateway has the same gwid');
    const address = parseGatewayAddress(row.address);
    if (!address.ok) problems.error(drGatewaysTable, row, 'address', address.error);
    if (!isProbeMode(row.probe_mode)) problems.error(drGatewaysTable, row, 'probe_mode', 'allowed: 0 (never probe), 1 (probe while disabled), 2 (always probe)');
    const storedState = GATEWAY_STATE_BY_COLUMN[row.state];
    if (!storedState) problems.error(drGatewaysTable, row, 'state', 'allowed: 0 (active), 1 (disabled by admin), 2 (disabled by probing)');
    if (problems.errors.length > before || !address.ok || !storedState || !isProbeMode(row.probe_mode)) continue;
    gateways.set(row.gwid, {
      id: row.id,
      gwid: row.gwid,
      type: row.type,
      address: address.address,
      strip: row.strip,
      priPrefix: row.pri_prefix ?? '',
      attrs: row.attrs,
      probeMode: row.probe_mode,
      storedState,
      socket: row.socket,
      description: row.description,
    });
  }
  return gateways;
}
