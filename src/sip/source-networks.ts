import { BlockList, isIP } from 'node:net';
import { boundedMemo } from '../core/bounded-memo.js';

/** How many sources' answers a set remembers. */
const REMEMBERED_SOURCES = 4096;

/**
 * Sets of source addresses: single addresses and CIDR networks, IPv4 and
 * IPv6 (auth.trustedSources, the gateways' addresses). Matched by node's
 * BlockList, which also matches an IPv4-mapped IPv6 source against an IPv4
 * network.
 */

export interface Network {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** `192.0.2.10`, `198.51.100.0/24`, `2001:db8::/32`; undefined when the text is none of these. */
export function parseNetwork(text: string): Network | undefined {
  const [address = '', prefixText, ...rest] = text.trim().split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return undefined;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  const bits = version === 4 ? 32 : 128;
  if (prefixText === undefined) return { address, prefix: bits, family };
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) return undefined;
  return { address, prefix: Number(prefixText), family };
}

export class SourceNetworks {
  private readonly list = new BlockList();
  readonly size: number;

  /** Throws naming the first entry that is neither an address nor a network (the configuration checks them first). */
  constructor(entries: Iterable<string>) {
    let size = 0;
    for (const entry of entries) {
      const network = parseNetwork(entry);
      if (!network) throw new RangeError(`${JSON.stringify(entry)} is neither an IP address nor a CIDR network`);
      this.list.addSubnet(network.address, network.prefix, network.family);
      size++;
    }
    this.size = size;
  }

  /**
   * Every request asks this of its source, several times (the screen, the
   * caller check): BlockList builds a SocketAddress per check, so answers
   * are remembered per address, up to REMEMBERED_SOURCES of them (a flood of
   * new sources costs the check again, not memory).
   */
  readonly has = boundedMemo((address: string): boolean => {
    const version = isIP(address);
    return version !== 0 && this.list.check(address, version === 4 ? 'ipv4' : 'ipv6');
  }, REMEMBERED_SOURCES);
}
