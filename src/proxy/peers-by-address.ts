import { isIP } from 'node:net';
import type { PeerRow } from '../core/model/sippeers-table.js';

/**
 * The sippeers peers whose `host` is an address (not `dynamic`), by that
 * address: chan_sip matches a call from there to the peer, which is how a
 * `type=peer` trunk calls in, and how `insecure=invite` lets a peer call
 * without a challenge. Taken again at start and at each reload.
 */
export class PeersByAddress {
  private byAddress: ReadonlyMap<string, PeerRow> = new Map();

  adopt(peers: readonly PeerRow[]): void {
    const byAddress = new Map<string, PeerRow>();
    for (const peer of peers)
      if (peer.host && isIP(peer.host) !== 0 && !byAddress.has(peer.host)) byAddress.set(peer.host, peer);
    this.byAddress = byAddress;
  }

  at(address: string): PeerRow | undefined {
    return this.byAddress.get(address);
  }
}

/** chan_sip's insecure: `invite`, `port,invite` or the old `very` let the peer's INVITEs in without a challenge. */
export function insecureInvite(peer: Pick<PeerRow, 'insecure'>): boolean {
  const words = (peer.insecure ?? '').toLowerCase().split(/[,\s]+/);
  return words.includes('invite') || words.includes('very');
}
