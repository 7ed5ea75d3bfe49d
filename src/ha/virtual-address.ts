import { networkInterfaces } from 'node:os';

/**
 * The warning for a node that binds sip.address without holding it (a
 * virtual IP, with ip_nonlocal_bind) yet contends for the leader lease
 * whatever keepalived says: as leader it would probe from an address it
 * cannot send from, and every gateway would go down. Undefined when all is well.
 */
export function unheldAddressWarning(
  address: string,
  hostAddresses: readonly string[],
  keepalivedStateFile: string,
): string | undefined {
  // All of 127.0.0.0/8 is this host's, though only 127.0.0.1 is listed on lo.
  if (keepalivedStateFile !== '' || hostAddresses.includes(address) || address.startsWith('127.') || address === '::1')
    return undefined;
  return `sip.address ${address} is not an address of this host (a virtual IP held elsewhere?) and ha.keepalivedStateFile is not set: this node may become the leader and probe from an address it cannot send from; set ha.keepalivedStateFile and keepalived's notify (docs/ha.md "HA with keepalived")`;
}

/** Every address of this host's interfaces. */
export function hostAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((addresses) => (addresses ?? []).map((each) => each.address));
}
