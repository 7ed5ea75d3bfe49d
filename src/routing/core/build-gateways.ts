import type { DrGatewayRow } from '../../core/model/drouting-tables.js';
import { drGatewaysTable } from '../../core/model/drouting-tables.js';
import { parseGatewayAddress } from './gateway-address.js';
import { type GwListGrammar, isValidId } from './gateway-list.js';
import { ignoredSocket, type LocalSockets } from './gateway-socket.js';
import type { LoadProblems } from './load-problems.js';
import { qualifiedId } from './partitions.js';
import { GATEWAY_STATE_BY_COLUMN, type Gateway } from './routing-table.js';

function isProbeMode(value: number): value is 0 | 1 | 2 {
  return value === 0 || value === 1 || value === 2;
}

/**
 * The gateways, each row checked as OpenSIPS 3.x add_dst checks it: a bad
 * gwid, address, probe_mode or state, or a gwid already loaded, leaves that
 * gateway out (OpenSIPS: "failed to add destination … -> skipping"); a
 * socket that does not parse or is not ours is dropped with a warning.
 * Keyed by the row's gwid; the gateway's own gwid is qualified by its partition.
 */
export function buildGateways(
  rows: readonly DrGatewayRow[],
  grammar: GwListGrammar,
  problems: LoadProblems,
  local: LocalSockets,
  partition: string,
): Map<string, Gateway> {
  const gateways = new Map<string, Gateway>();
  for (const row of rows) {
    const address = parseGatewayAddress(row.address);
    const storedState = GATEWAY_STATE_BY_COLUMN[row.state];
    const skip = (column: string, why: string) => problems.skip(drGatewaysTable, row, column, why);
    // In add_dst's order, so that a row with two faults is named by the same one.
    if (!isValidId(row.gwid, grammar)) skip('gwid', `a gateway id is ${grammar.idChars}`);
    else if (!address.ok) skip('address', address.error);
    else if (!isProbeMode(row.probe_mode))
      skip('probe_mode', 'allowed: 0 (never probe), 1 (probe while disabled), 2 (always probe)');
    else if (!storedState) skip('state', 'allowed: 0 (active), 1 (disabled by admin), 2 (disabled by probing)');
    else if (gateways.has(row.gwid)) skip('gwid', `gateway ${row.gwid} is already loaded from an earlier row`);
    else {
      const socketIgnored = ignoredSocket(row.socket, local);
      if (socketIgnored) problems.warn(drGatewaysTable, row, 'socket', socketIgnored);
      gateways.set(row.gwid, {
        id: row.id,
        gwid: qualifiedId(partition, row.gwid),
        type: row.type,
        address: address.address,
        strip: row.strip,
        priPrefix: row.pri_prefix ?? '',
        attrs: row.attrs,
        probeMode: row.probe_mode,
        storedState,
        socket: socketIgnored ? null : row.socket,
        description: row.description,
      });
    }
  }
  return gateways;
}
