import { type Binding, type Cache, CacheUnavailableError } from '../cache/cache.js';
import type { Clock } from '../clock.js';
import { StoreUnreachableError } from '../errors.js';
import { ReportThrottle } from '../report-throttle.js';
import type { Logger } from '../log.js';
import type { Location, LocationLookup } from '../proxy/call-router.js';
import type { SipUri } from '../sip/uri.js';
import { byPreference } from './bindings.js';
import type { PeerLookup } from './peer-service.js';
import { mayRegister } from './realtime-peer.js';

const OUTAGE_REPORT_MS = 5000;

/**
 * The location service: a Request-URI user who is a registered peer is
 * reached at its contacts, highest q first, sent to the address the
 * REGISTER came from (the NAT's, chan_sip nat=force_rport). A peer that may
 * register but has no live binding is offline (480), unless ignoreregexpire
 * keeps its last contact (from the row) usable. While the database is
 * unreachable a number with no binding is routed by the rules, as Asterisk
 * goes on to its dialplan when a realtime lookup fails: calls to the
 * gateways go on through an outage of the peer table. While the cache is
 * down, the same: numbers go by the rules, and a phone is reached at the
 * contact its row holds while the row's registration runs.
 */
export function locationLookup(deps: { cache: Cache; peers: PeerLookup; clock: Clock; ignoreregexpire: boolean; log: Logger }): LocationLookup {
  // Every call during an outage fails the lookup alike: one line per interval, not one per call.
  const outageReports = new ReportThrottle(OUTAGE_REPORT_MS);
  async function findPeer(user: string) {
    try {
      return await deps.peers.find(user);
    } catch (error) {
      if (!(error instanceof StoreUnreachableError)) throw error;
      outage(error, `peer ${user} not looked up`, 'routing the call by the rules');
      return undefined;
    }
  }

  /** `what` and `then` around the error's message: `peer 1001 not looked up (…): routing the call by the rules`. */
  function outage(error: Error, what: string, then: string): void {
    const heldBack = outageReports.admit(deps.clock.now().getTime());
    if (heldBack === undefined) return;
    const since = heldBack > 0 ? ` (and ${heldBack} more since the last report)` : '';
    deps.log.warn({ err: error }, `${what} (${error.message}): ${then}${since}`);
  }

  /** The AoR's bindings; undefined while the cache does not answer. */
  async function bindingsOf(user: string): Promise<Binding[] | undefined> {
    try {
      return await deps.cache.getBindings(user);
    } catch (error) {
      if (!(error instanceof CacheUnavailableError)) throw error;
      outage(error, `bindings of ${user} not read`, 'calls to numbers are routed by the rules, calls to phones by their sippeers rows');
      return undefined;
    }
  }

  return async (requestUri: SipUri): Promise<Location> => {
    const user = requestUri.user;
    if (!user) return { kind: 'unknown' };
    const now = deps.clock.now().getTime();
    const bindings = await bindingsOf(user);
    const live = (bindings ?? []).filter((binding) => binding.expiresAt > now);
    if (live.length > 0) {
      return {
        kind: 'registered',
        targets: byPreference(live).map((binding) => ({ uri: binding.contact, destination: binding.source, label: `peer ${user}` })),
      };
    }
    const peer = await findPeer(user);
    if (!peer || !mayRegister(peer)) return { kind: 'unknown' };
    // ignoreregexpire: the row's last contact stays usable after its registration expired;
    // without the cache, the row (written at each REGISTER, rtupdate) is the registration there is.
    const rowRegistered = bindings === undefined && (peer.regseconds ?? 0) * 1000 > now;
    if ((deps.ignoreregexpire || rowRegistered) && peer.fullcontact && peer.ipaddr && peer.port) {
      return { kind: 'registered', targets: [{ uri: peer.fullcontact, destination: { address: peer.ipaddr, port: peer.port, transport: 'udp' }, label: `peer ${user}` }] };
    }
    return { kind: 'offline' };
  };
}
