import type { PeerRow } from '../core/model/sippeers-table.js';
import { type DigestAuthenticator, peerAllows } from '../registrar/authentication-service.js';
import type { SecurityLog } from '../security-log/security-log.js';
import type { Endpoint, ServerExchange } from '../sip/engine.js';
import { parseSipUri } from '../sip/core/uri.js';
import { insecureInvite } from './peers-by-address.js';

/**
 * Who may start a call (RFC 3261 §22.3, proxy authentication): a request
 * from a trusted source (a gateway, auth.trustedSources) goes on as it is;
 * any other is challenged with 407 and must answer with the credentials of
 * a sippeers peer that may call, whose name is the From user (OpenSIPS
 * check_from): then the From, and with it the caller's routing group, is
 * the authenticated peer's. The check comes before anything is looked up
 * for the request, so its answer never tells who exists.
 */

export type CallerVerdict =
  | { kind: 'trusted' }
  | { kind: 'authenticated'; peer: PeerRow }
  /** No credentials from an untrusted source: the caller decides between a 407 and letting it through (challenge()). */
  | { kind: 'anonymous' }
  /** Answered already (403, or 407 after a failed answer), with a security line. */
  | { kind: 'refused' };

export interface CallerAuthenticationDeps {
  authenticator: DigestAuthenticator;
  /** Sources whose requests are not challenged (the gateways, auth.trustedSources, the `address` table). */
  trusted(source: Endpoint): boolean;
  /** The peer whose static `host` is this address, if any (chan_sip's match by address). */
  peerAt(address: string): PeerRow | undefined;
  /** Where a refused call is told (the JSON log, and the plain file fail2ban reads). */
  security: Pick<SecurityLog, 'callRejected'>;
}

/** chan_sip: a peer of type peer only receives calls (it is matched by its address); friends and users place them. */
export function mayCall(peer: Pick<PeerRow, 'type'>): boolean {
  return peer.type !== 'peer';
}

export class CallerAuthentication {
  constructor(private readonly deps: CallerAuthenticationDeps) {}

  async check(exchange: ServerExchange): Promise<CallerVerdict> {
    const { request } = exchange;
    if (this.deps.trusted(request.source)) return { kind: 'trusted' };
    // chan_sip matches a call from a peer's static host to that peer: insecure=invite lets it in unchallenged.
    const sourcePeer = this.deps.peerAt(request.source.address);
    if (sourcePeer && insecureInvite(sourcePeer) && peerAllows(sourcePeer, request.source.address))
      return { kind: 'authenticated', peer: sourcePeer };
    const credentials = request.proxyAuthorization;
    if (credentials === undefined) return { kind: 'anonymous' };
    const verdict = await this.deps.authenticator.check({
      credentials,
      method: request.method,
      source: request.source.address,
      // A type=peer row places calls only from its own host (a trunk), as chan_sip matches it.
      fit: (peer) => mayCall(peer) || peer.name === sourcePeer?.name,
      unfitReason: 'Peer is not supposed to place calls',
    });
    if (!verdict.ok) {
      if (verdict.securityReason) this.deps.security.callRejected(request, verdict.securityReason);
      this.challenge(exchange, verdict.stale);
      return { kind: 'refused' };
    }
    const from = request.from ? parseSipUri(request.from.uri) : undefined;
    // A peer matched by its address (a trunk) sends its callers' numbers in From, not its own name.
    const matchedByAddress = verdict.peer.name === sourcePeer?.name;
    if (!matchedByAddress && (!from?.ok || from.uri.user !== verdict.peer.name)) {
      this.deps.security.callRejected(request, 'Username/auth name mismatch');
      exchange.reply(403, { reason: 'Forbidden (authentication name does not match the From user)' });
      return { kind: 'refused' };
    }
    return { kind: 'authenticated', peer: verdict.peer };
  }

  /** 407 with a fresh challenge for the request's source. */
  challenge(exchange: ServerExchange, stale = false): void {
    exchange.reply(407, {
      headers: { 'Proxy-Authenticate': this.deps.authenticator.challenge(exchange.request.source.address, stale) },
    });
  }
}
