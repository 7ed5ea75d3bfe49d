import type { Binding, BindingCache } from '../cache/cache.js';
import type { Clock } from '../clock.js';
import { CacheUnavailableError, StoreUnreachableError } from '../errors.js';
import { ReportThrottle } from '../core/report-throttle.js';
import type { Logger } from '../log.js';
import type { Location, LocationLookup } from '../proxy/call-router.js';
import type { NodeRelay } from '../proxy/core/node-relay.js';
import type { SipUri } from '../sip/core/uri.js';
import { byPreference } from './core/bindings.js';
import type { PeerLookup } from './peer-service.js';
import { bindingFromRow, mayRegister } from './core/realtime-peer.js';
import { bindingTtl } from './binding-ttl.js';

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
 * contact its row holds while the row's registration runs. A cache that
 * answers but has lost the binding (Redis restarted empty) while the row
 * says the phone is registered (`rebuildFromRows`: the rows are written at
 * each REGISTER, rtupdate) is given the binding back from the row. With
 * several nodes active at once (`relay`), a phone registered through
 * another node is reached through that node first.
 */
export function locationLookup(deps: {
  cache: BindingCache;
  peers: PeerLookup;
  clock: Clock;
  ignoreregexpire: boolean;
  rebuildFromRows: boolean;
  log: Logger;
  relay: NodeRelay | undefined;
}): LocationLookup {
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
      outage(
        error,
        `bindings of ${user} not read`,
        'calls to numbers are routed by the rules, calls to phones by their sippeers rows',
      );
      return undefined;
    }
  }

  /** Puts a binding read from the row back into a cache that lost it; a REGISTER that came first wins. */
  async function restore(binding: Binding, now: number): Promise<void> {
    try {
      if ((await deps.cache.swapBindings(binding.aor, [], [binding], bindingTtl([binding], now))) === 'swapped') {
        deps.log.info(
          { peer: binding.aor },
          `binding of ${binding.aor} rebuilt from its sippeers row (the cache had none): ${binding.contact} until ${new Date(binding.expiresAt).toISOString()}`,
        );
      }
    } catch (error) {
      if (!(error instanceof CacheUnavailableError)) throw error;
      outage(error, `binding of ${binding.aor} not put back`, 'the call goes to the contact its row holds');
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
        targets: byPreference(live).flatMap((binding) => {
          const direct = { uri: binding.contact, destination: binding.source, label: `peer ${user}` };
          return deps.relay ? deps.relay.targets(direct, binding.node, now) : [direct];
        }),
      };
    }
    const peer = await findPeer(user);
    if (!peer || !mayRegister(peer)) return { kind: 'unknown' };
    const atRow = (contact: string, address: string, port: number): Location => ({
      kind: 'registered',
      targets: [{ uri: contact, destination: { address, port, transport: 'udp' }, label: `peer ${user}` }],
    });
    // Without the cache, or with a cache that lost it, the row (written at each REGISTER, rtupdate) is the registration there is.
    const fromRow =
      bindings === undefined || (deps.rebuildFromRows && bindings.length === 0) ? bindingFromRow(peer, now) : undefined;
    if (fromRow) {
      if (bindings !== undefined) await restore(fromRow, now);
      return atRow(fromRow.contact, fromRow.source.address, fromRow.source.port);
    }
    // ignoreregexpire: the row's last contact stays usable after its registration expired.
    if (deps.ignoreregexpire && peer.fullcontact && peer.ipaddr && peer.port)
      return atRow(peer.fullcontact, peer.ipaddr, peer.port);
    return { kind: 'offline' };
  };
}
