import type { PeerRow, RegistrationColumns } from '../../core/model/sippeers-table.js';
import { parseSipUri } from '../../sip/core/uri.js';
import type { Binding } from './bindings.js';

/**
 * What chan_sip writes to a realtime sippeers row (research §1.1, §1.3):
 * `realtime_update_peer` after a REGISTER, `destroy_association` on
 * unregister and expiry. Pure.
 */

/** chan_sip destroy_association: these columns, and not defaultuser. */
export const CLEARED_REGISTRATION: Readonly<Partial<RegistrationColumns>> = {
  fullcontact: '',
  ipaddr: '',
  port: 0,
  regseconds: 0,
  regserver: '',
  useragent: '',
  lastms: 0,
};

/** The peer may register: chan_sip wants host=dynamic and a type that accepts registrations. */
export function mayRegister(peer: Pick<PeerRow, 'host' | 'type'>): boolean {
  return peer.host === 'dynamic' && (peer.type === 'friend' || peer.type === 'peer' || peer.type === null);
}

/**
 * chan_sip writes the peer's `lastms` with every registration
 * (realtime_update_peer); for a peer it does not qualify, the poke that
 * REGISTER triggers has just set it to 0 ("unknown", sip_poke_peer with no
 * maxms). We never qualify phones, so 0 it is: -1 would say unreachable.
 */
export const UNQUALIFIED_LASTMS = 0;

/**
 * The columns after a successful REGISTER: the first binding (chan_sip keeps
 * one), its source address (nat=force_rport, the usual setting behind NAT),
 * the absolute expiry, the raw Contact, User-Agent, lastms, defaultuser when
 * empty, and regserver with rtsavesysname. Whole values: the store's column
 * sizes cut the row's copy (column-fit.ts).
 */
export function registeredColumns(
  peer: Pick<PeerRow, 'defaultuser'>,
  binding: Binding,
  options: { systemName: string; saveSystemName: boolean },
): Partial<RegistrationColumns> {
  const contact = parseSipUri(binding.contact);
  const columns: Partial<RegistrationColumns> = {
    ipaddr: binding.source.address,
    port: binding.source.port,
    regseconds: Math.floor(binding.expiresAt / 1000),
    fullcontact: binding.contact,
    useragent: binding.userAgent ?? '',
    lastms: UNQUALIFIED_LASTMS,
  };
  if (!peer.defaultuser && contact.ok && contact.uri.user) columns.defaultuser = contact.uri.user;
  if (options.saveSystemName && options.systemName !== '') columns.regserver = options.systemName;
  return columns;
}

/**
 * The registration a row holds while it runs (regseconds in the future,
 * with its contact and the address it came from), as a binding: what
 * registeredColumns wrote, read back. Its Call-ID and CSeq are not in the
 * row, so the phone's next REGISTER replaces it whatever its own are.
 */
export function bindingFromRow(
  peer: Pick<PeerRow, 'name' | 'regseconds' | 'fullcontact' | 'ipaddr' | 'port' | 'useragent'>,
  now: number,
): Binding | undefined {
  const expiresAt = (peer.regseconds ?? 0) * 1000;
  if (expiresAt <= now || !peer.fullcontact || !peer.ipaddr || !peer.port) return undefined;
  return {
    aor: peer.name,
    contact: peer.fullcontact,
    expiresAt,
    callId: '',
    cseq: 0,
    q: 1,
    source: { address: peer.ipaddr, port: peer.port, transport: 'udp' },
    userAgent: peer.useragent || undefined,
    contactParams: '',
  };
}
