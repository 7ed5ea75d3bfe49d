import type { RowProblem } from '../errors.js';
import type { AddressRow } from '../core/model/address-table.js';
import type { RoutingDestinations } from '../routing/core/routing-table.js';
import { endpointOf } from '../sip/core/endpoint.js';
import type { Endpoint } from '../sip/engine.js';
import { SourceNetworks } from '../sip/source-networks.js';

/**
 * The sources whose requests are not challenged: every gateway of the
 * current routing snapshot (an Asterisk sending a call to a registered
 * phone), auth.trustedSources, and the rows of OpenSIPS's permissions
 * `address` table (SBCs, PBXs). The gateways' addresses are taken again
 * after each reload, the `address` rows when adopt() is given them.
 */

/** An `address` row with a port or a protocol: it trusts that source only on them. */
interface NarrowAddress {
  networks: SourceNetworks;
  port: number;
  proto: string;
}

const PROTOCOLS = new Set(['any', 'udp', 'tcp', 'tls', 'sctp', 'ws', 'wss']);

export class TrustedSources {
  private readonly configured: SourceNetworks;
  private table: RoutingDestinations | undefined;
  private gateways: ReadonlySet<string> = new Set();
  private anyPortAddresses = new SourceNetworks([]);
  private narrowAddresses: readonly NarrowAddress[] = [];

  constructor(
    configured: readonly string[],
    private readonly currentTable: () => RoutingDestinations,
    /** The `address` groups (grp) that count; empty: every row. */
    private readonly addressGroups: readonly number[],
  ) {
    this.configured = new SourceNetworks(configured);
  }

  /** Takes the `address` rows in place of the last ones; returns the rows it could not use, named. */
  adopt(rows: readonly AddressRow[]): RowProblem[] {
    const problems: RowProblem[] = [];
    const anyPort: string[] = [];
    const narrow: NarrowAddress[] = [];
    for (const row of rows) {
      if (this.addressGroups.length > 0 && !this.addressGroups.includes(row.grp)) continue;
      const network = `${row.ip}/${row.mask}`;
      const proto = row.proto.toLowerCase();
      const problem = (column: string, value: unknown, text: string) =>
        problems.push({ table: 'address', row: `id=${row.id}`, column, value, problem: text });
      if (!PROTOCOLS.has(proto)) {
        problem('proto', row.proto, `is not one of ${[...PROTOCOLS].join(', ')}: the row is left out`);
        continue;
      }
      let networks: SourceNetworks;
      try {
        networks = new SourceNetworks([network]);
      } catch {
        problem('ip', network, 'is not an IP address with a mask in its range: the row is left out');
        continue;
      }
      if (row.port === 0 && proto === 'any') anyPort.push(network);
      else narrow.push({ networks, port: row.port, proto });
    }
    this.anyPortAddresses = new SourceNetworks(anyPort);
    this.narrowAddresses = narrow;
    return problems;
  }

  has(source: Endpoint): boolean {
    const { address } = source;
    if (this.configured.has(address) || this.anyPortAddresses.has(address)) return true;
    for (const row of this.narrowAddresses) {
      if (
        (row.port === 0 || row.port === source.port) &&
        (row.proto === 'any' || row.proto === source.transport) &&
        row.networks.has(address)
      )
        return true;
    }
    const table = this.currentTable();
    if (table !== this.table) {
      this.table = table;
      this.gateways = new Set([...table.gateways.values()].map((gateway) => endpointOf(gateway.address).address));
    }
    return this.gateways.has(address);
  }
}
