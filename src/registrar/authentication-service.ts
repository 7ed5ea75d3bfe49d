import type { Cache } from '../cache/cache.js';
import type { Clock } from '../clock.js';
import type { PeerRow } from '../model/sippeers-table.js';
import { challenges, checkNonce, computeHa1, type DigestAlgorithm, type DigestCredentials, makeNonce, parseAuthorization, verifyDigest } from './digest.js';
import type { PeerLookup } from './peer-service.js';

/**
 * Digest authentication against the sippeers peers, one for REGISTER (401,
 * Authorization) and for calls (407, Proxy-Authorization): stateless
 * nonces, the peer's secret or md5secret, the nonce count kept in the cache.
 * An unknown or unfit peer is refused like a wrong password, after the same
 * hashing, so neither the answer nor its timing tells who exists (Asterisk
 * alwaysauthreject).
 */

export interface AuthenticationDeps {
  peers: Pick<PeerLookup, 'find'>;
  cache: Pick<Cache, 'acceptNonceCount'>;
  realm: string;
  algorithms: readonly DigestAlgorithm[];
  nonceLifetimeSeconds: number;
  /** registrar.nonceSecret, or the one the nodes share (drouter_shared). */
  nonceSecret: string;
  clock: Clock;
  /** 8 random bytes per challenge (see makeNonce). */
  salt: () => Uint8Array;
}

export interface AuthenticationRequest {
  /** The Authorization (REGISTER) or Proxy-Authorization (calls) header's text. */
  credentials: string | undefined;
  method: string;
  /** The request's source address: nonces are bound to it. */
  source: string;
  /** Whether the peer may use this request at all (chan_sip: may register, may call). */
  fit(peer: PeerRow): boolean;
  /** chan_sip's reason when it may not. */
  unfitReason: string;
  /** A nonce count seen before is refused, unless this says the request is a retransmission of an accepted one. */
  retransmission?(peer: PeerRow): Promise<boolean>;
}

export type AuthenticationVerdict =
  | { ok: true; peer: PeerRow; credentials: DigestCredentials }
  /** Challenge again; `securityReason` is chan_sip's reason for the security line, absent for a plain first challenge or a stale nonce. */
  | { ok: false; stale: boolean; securityReason: string | undefined };

/** A made-up secret to check an unknown peer's answer against, for the cost only: the result is never used. */
const UNKNOWN_PEER_SECRET = 'sip-drouter: no such peer';

export class DigestAuthenticator {
  constructor(private readonly deps: AuthenticationDeps) {}

  /** The challenge header values (WWW-Authenticate or Proxy-Authenticate), one per algorithm, with a fresh nonce for `source`. */
  challenge(source: string, stale: boolean): string[] {
    const nonce = makeNonce({ secret: this.deps.nonceSecret, now: this.deps.clock.now(), source, salt: this.deps.salt() });
    return challenges(this.deps.realm, nonce, this.deps.algorithms, stale);
  }

  async check(request: AuthenticationRequest): Promise<AuthenticationVerdict> {
    const { deps } = this;
    const credentials = request.credentials ? parseAuthorization(request.credentials) : undefined;
    if (!credentials) return { ok: false, stale: false, securityReason: undefined };
    const peer = await deps.peers.find(credentials.username);
    const fit = peer && request.fit(peer) ? peer : undefined;
    const ha1 = fit ? ha1For(fit, credentials, deps.realm) : computeHa1(credentials.algorithm, credentials.username, deps.realm, UNKNOWN_PEER_SECRET);
    const now = deps.clock.now();
    const nonceState = checkNonce(credentials.nonce, { secret: deps.nonceSecret, now, source: request.source, lifetimeSeconds: deps.nonceLifetimeSeconds });
    const digestRight = ha1 !== undefined && credentials.realm === deps.realm && verifyDigest(credentials, request.method, ha1);
    if (!fit) return { ok: false, stale: false, securityReason: peer ? request.unfitReason : 'No matching peer found' };
    if (!digestRight) return { ok: false, stale: false, securityReason: 'Wrong password' };
    if (nonceState !== 'valid') return { ok: false, stale: nonceState === 'stale', securityReason: undefined };
    const count = Number.parseInt(credentials.nc ?? '', 16);
    if (!(await deps.cache.acceptNonceCount(credentials.nonce, count, deps.nonceLifetimeSeconds * 1000)) && !(await request.retransmission?.(fit))) {
      return { ok: false, stale: true, securityReason: 'Nonce count replayed' };
    }
    return { ok: true, peer: fit, credentials };
  }
}

function ha1For(peer: PeerRow, credentials: DigestCredentials, realm: string): string | undefined {
  if (peer.secret) return computeHa1(credentials.algorithm, credentials.username, realm, peer.secret);
  // Asterisk's md5secret is MD5(user:realm:secret): usable for MD5 digests only.
  if (peer.md5secret && credentials.algorithm === 'MD5') return peer.md5secret.toLowerCase();
  return undefined;
}
