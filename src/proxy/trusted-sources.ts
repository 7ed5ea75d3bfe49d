import type { RoutingTable } from '../routing/routing-table.js';
import { endpointOf } from '../sip/endpoint.js';
import { SourceNetworks } from '../sip/source-networks.js';

/**
 * The sources whose requests are not challenged: every gateway of the
 * current routing snapshot (an Asterisk sending a call to a registered
 * phone) and auth.trustedSources (SBCs, PBXs). The gateways' addresses are
 * taken again after each reload.
 */
export class TrustedSources {
  private readonly configured: SourceNetworks;
  private table: RoutingTable | undefined;
  private gateways: ReadonlySet<string> = new Set();

  constructor(
    configured: readonly string[],
    private readonly currentTable: () => RoutingTable,
  ) {
    this.configured = new SourceNetworks(configured);
  }

  has(address: string): boolean {
    if (this.configured.has(address)) return true;
    const table = this.currentTable();
    if (table !== this.table) {
      this.table = table;
      this.gateways = new Set([...table.gateways.values()].map((gateway) => endpointOf(gateway.address).address));
    }
    return this.gateways.has(address);
  }
}
