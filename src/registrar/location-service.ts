import type { Cache } from '../cache/cache.js';
import type { Clock } from '../clock.js';
import type { Location, LocationLookup } from '../proxy/call-router.js';
import type { SipUri } from '../sip/uri.js';
import type { Store } from '../store/store.js';
import { byPreference } from './bindings.js';
import { mayRegister } from './realtime-peer.js';

/**
 * The location service: a Request-URI user who is a registered peer is
 * reached at its contacts, highest q first, sent to the address the
 * REGISTER came from (the NAT's, chan_sip nat=force_rport). A peer that may
 * register but has no live binding is offline (480).
 */
export function locationLookup(deps: { cache: Cache; store: Pick<Store, 'findPeerByName'>; clock: Clock }): LocationLookup {
  return async (requestUri: SipUri): Promise<Location> => {
    const user = requestUri.user;
    if (!user) return { kind: 'unknown' };
    const now = deps.clock.now().getTime();
    const live = (await deps.cache.getBindings(user)).filter((binding) => binding.expiresAt > now);
    if (live.length > 0) {
      return {
        kind: 'registered',
        targets: byPreference(live).map((binding) => ({ uri: binding.contact, destination: binding.source, label: `peer ${user}` })),
      };
    }
    const peer = await deps.store.findPeerByName(user);
    return peer && mayRegister(peer) ? { kind: 'offline' } : { kind: 'unknown' };
  };
}
