import type { NonceCountCache } from '../cache/cache.js';
import type { Clock } from '../clock.js';
import type { PeerRow } from '../core/model/sippeers-table.js';
import {
  challenges,
  checkNonce,
  computeHa1,
  type DigestAlgorithm,
  type DigestCredentials,
  makeNonce,
  parseAuthorization,
  verifyDigest,
} from './core/digest.js';
import { boundedMemo } from '../core/bounded-memo.js';
import { parseNetwork, SourceNetworks } from '../sip/source-networks.js';
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
  cache: NonceCountCache;
  realm: string;
  algorithms: readonly DigestAlgorithm[];
  nonceLifetimeSeconds: number;
  /** registrar.nonceSecret, or the one the nodes share (drouter_shared). */
  nonceSecret: string;
  clock: Clock;
  /** 8 random bytes per challenge (see makeNonce). */
  salt: () => Uint8Array;
}

/**
 * Why an authentication was refused, in chan_sip's words where it has them
 * (the reasons of its handle_request_register), for the security lines.
 */
export type AuthenticationFailure =
  | 'No matching peer found'
  | 'Wrong password'
  | 'Username/auth name mismatch'
  | 'Device does not match ACL'
  | 'Peer is not supposed to register'
  | 'Peer is not supposed to place calls'
  | 'Nonce count replayed';

export interface AuthenticationRequest {
  /** The Authorization (REGISTER) or Proxy-Authorization (calls) header's text. */
  credentials: string | undefined;
  method: string;
  /** The request's source address: nonces are bound to it. */
  source: string;
  /** Whether the peer may use this request at all (chan_sip: may register, may call). */
  fit(peer: PeerRow): boolean;
  /** chan_sip's reason when it may not. */
  unfitReason: AuthenticationFailure;
  /** A nonce count seen before is refused, unless this says the request is a retransmission of an accepted one. */
  retransmission?(peer: PeerRow): Promise<boolean>;
}

export type AuthenticationVerdict =
  | { ok: true; peer: PeerRow; credentials: DigestCredentials }
  /** Challenge again; `securityReason` is chan_sip's reason for the security line, absent for a plain first challenge or a stale nonce. */
  | { ok: false; stale: boolean; securityReason: AuthenticationFailure | undefined };

/** A made-up secret to check an unknown peer's answer against, for the cost only: the result is never used. */
const UNKNOWN_PEER_SECRET = 'sip-drouter: no such peer';

export class DigestAuthenticator {
  constructor(private readonly deps: AuthenticationDeps) {}

  /** The challenge header values (WWW-Authenticate or Proxy-Authenticate), one per algorithm, with a fresh nonce for `source`. */
  challenge(source: string, stale: boolean): string[] {
    const nonce = makeNonce({
      secret: this.deps.nonceSecret,
      now: this.deps.clock.now(),
      source,
      salt: this.deps.salt(),
    });
    return challenges(this.deps.realm, nonce, this.deps.algorithms, stale);
  }

  async check(request: AuthenticationRequest): Promise<AuthenticationVerdict> {
    const { deps } = this;
    const credentials = request.credentials ? parseAuthorization(request.credentials) : undefined;
    if (!credentials) return { ok: false, stale: false, securityReason: undefined };
    const peer = await deps.peers.find(credentials.username);
    const fit = peer && request.fit(peer) ? peer : undefined;
    const ha1 = fit
      ? ha1For(fit, credentials, deps.realm)
      : computeHa1(credentials.algorithm, credentials.username, deps.realm, UNKNOWN_PEER_SECRET);
    const now = deps.clock.now();
    const nonceState = checkNonce(credentials.nonce, {
      secret: deps.nonceSecret,
      now,
      source: request.source,
      lifetimeSeconds: deps.nonceLifetimeSeconds,
    });
    const digestRight =
      ha1 !== undefined && credentials.realm === deps.realm && verifyDigest(credentials, request.method, ha1);
    if (!fit) return { ok: false, stale: false, securityReason: peer ? request.unfitReason : 'No matching peer found' };
    if (!digestRight) return { ok: false, stale: false, securityReason: 'Wrong password' };
    if (nonceState !== 'valid') return { ok: false, stale: nonceState === 'stale', securityReason: undefined };
    // chan_sip's permit/deny on the peer (checked once the password is known right, so that it tells a guesser nothing).
    if (!peerAllows(fit, request.source))
      return { ok: false, stale: false, securityReason: 'Device does not match ACL' };
    const count = Number.parseInt(credentials.nc ?? '', 16);
    if (
      !(await deps.cache.acceptNonceCount(credentials.nonce, count, deps.nonceLifetimeSeconds * 1000)) &&
      !(await request.retransmission?.(fit))
    ) {
      return { ok: false, stale: true, securityReason: 'Nonce count replayed' };
    }
    return { ok: true, peer: fit, credentials };
  }
}

/**
 * chan_sip's permit/deny of a peer: `ip/mask` entries (a dotted netmask or a
 * prefix length; a bare address is one host), several joined by `;` or `,`.
 * As sip.conf is usually written (deny first, then permit), a source that
 * `deny` matches is refused unless `permit` matches it too; with no `deny`
 * every source is allowed. An entry that does not parse matches nothing.
 */
export function peerAllows(peer: Pick<PeerRow, 'permit' | 'deny'>, address: string): boolean {
  if (!peer.deny) return true;
  if (!aclNetworks(peer.deny).has(address)) return true;
  return peer.permit ? aclNetworks(peer.permit).has(address) : false;
}

/** A peer's permit or deny as networks, parsed once per distinct text: it is asked on every REGISTER and call of the peer. */
const aclNetworks = boundedMemo(parseAcl, 1024);

function parseAcl(text: string): SourceNetworks {
  const entries = text
    .split(/[;,]/)
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      const [address = '', mask] = entry.split('/');
      if (mask === undefined) return address;
      const prefix = mask.includes('.') ? dottedMaskLength(mask) : mask;
      return prefix === undefined ? '' : `${address}/${prefix}`;
    })
    .filter((entry) => parseNetwork(entry) !== undefined);
  return new SourceNetworks(entries);
}

/** 255.255.255.0 → 24; undefined for a mask whose bits are not contiguous. */
function dottedMaskLength(mask: string): number | undefined {
  const octets = mask.split('.').map(Number);
  if (octets.length !== 4 || octets.some((octet) => !Number.isInteger(octet) || octet < 0 || octet > 255))
    return undefined;
  const bits = octets.map((octet) => octet.toString(2).padStart(8, '0')).join('');
  if (!/^1*0*$/.test(bits)) return undefined;
  const firstZero = bits.indexOf('0');
  return firstZero === -1 ? 32 : firstZero;
}

function ha1For(peer: PeerRow, credentials: DigestCredentials, realm: string): string | undefined {
  if (peer.secret) return computeHa1(credentials.algorithm, credentials.username, realm, peer.secret);
  // Asterisk's md5secret is MD5(user:realm:secret): usable for MD5 digests only.
  if (peer.md5secret && credentials.algorithm === 'MD5') return peer.md5secret.toLowerCase();
  return undefined;
}
