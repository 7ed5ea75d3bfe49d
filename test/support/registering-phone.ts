import { hostText } from '../../src/sip/core/endpoint.js';
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import type { TcpPeer } from './tcp-peer.js';
import { sipRequest, type UdpPeer } from './udp-peer.js';

export interface Challenge {
  algorithm: string;
  nonce: string;
  realm: string;
}

export function statusOf(message: string | undefined): number | undefined {
  const match = message ? /^SIP\/2\.0 (\d{3})/.exec(message) : null;
  return match ? Number(match[1]) : undefined;
}

/**
 * A response with what differs from one request to the next made the same:
 * the user `name` its URIs echo, nonces, the branch, tags, the Call-ID and the
 * CSeq number. Two challenges that must not tell their users apart are
 * equal after this.
 */
export function withRequestDetailsHidden(response: string | undefined, name: string): string {
  return (response ?? '')
    .replaceAll(`sip:${name}@`, 'sip:NAME@')
    .replace(/nonce="[^"]+"/g, 'nonce="NONCE"')
    .replace(/branch=[^;\r]+/, 'branch=BRANCH')
    .replace(/tag=[^;\r]+/g, 'tag=TAG')
    .replace(/Call-ID: \S+/, 'Call-ID: ID')
    .replace(/CSeq: \d+/, 'CSeq: N');
}

/** The digest challenges of a 401 (WWW-Authenticate) or a 407 (Proxy-Authenticate). */
export function challengesOf(message: string | undefined): Challenge[] {
  return [...(message ?? '').matchAll(/^(?:WWW|Proxy)-Authenticate:\s*Digest (.*)$/gim)].map((m) => ({
    algorithm: /algorithm=([\w-]+)/.exec(m[1] ?? '')?.[1] ?? '',
    nonce: /nonce="([^"]+)"/.exec(m[1] ?? '')?.[1] ?? '',
    realm: /realm="([^"]+)"/.exec(m[1] ?? '')?.[1] ?? '',
  }));
}

/** The registration columns of a sippeers row, read straight from the SQLite file. */
export function peerRow(storeFile: string, name: string): Record<string, unknown> {
  const db = new Database(storeFile, { readonly: true });
  try {
    return db
      .prepare(
        'SELECT ipaddr, port, regseconds, fullcontact, useragent, defaultuser, regserver, lastms FROM sippeers WHERE name = ?',
      )
      .get(name) as Record<string, unknown>;
  } finally {
    db.close();
  }
}

/**
 * The header line answering `challenge` (RFC 2617/7616, qop auth, nc 1): Authorization for a
 * REGISTER, Proxy-Authorization for a call.
 */
export function digestAuthorization(
  header: 'Authorization' | 'Proxy-Authorization',
  method: string,
  user: string,
  password: string,
  challenge: Challenge,
  uri: string,
): string {
  const algorithm = challenge.algorithm === 'SHA-256' ? 'sha256' : 'md5';
  const hash = (text: string) => createHash(algorithm).update(text).digest('hex');
  const response = hash(
    `${hash(`${user}:${challenge.realm}:${password}`)}:${challenge.nonce}:00000001:abcdef:auth:${hash(`${method}:${uri}`)}`,
  );
  return `${header}: Digest username="${user}", realm="${challenge.realm}", nonce="${challenge.nonce}", uri="${uri}", response="${response}", algorithm=${challenge.algorithm}, qop=auth, nc=00000001, cnonce="abcdef"`;
}

/** The Authorization header line answering `challenge` for a REGISTER to `uri`. */
export function registerAuthorization(user: string, password: string, challenge: Challenge, uri: string): string {
  return digestAuthorization('Authorization', 'REGISTER', user, password, challenge, uri);
}

/** A phone that REGISTERs over a bare UDP peer, computing its own digests. */
export class RegisteringPhone {
  private cseq = 0;
  private readonly callId = `reg-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;

  constructor(
    readonly peer: UdpPeer,
    private readonly proxy: { address: string; port: number },
  ) {}

  /** A REGISTER for `user`; a `Contact:` line in `extra` takes the place of the phone's own. */
  request(user: string, extra: readonly string[] = []): string {
    this.cseq++;
    const { port } = this.peer.address;
    const address = hostText(this.peer.address.address);
    const proxy = hostText(this.proxy.address);
    const ownContact = extra.some((line) => /^Contact:/i.test(line))
      ? []
      : [`Contact: <sip:${user}@${address}:${port}>`];
    return sipRequest([
      `REGISTER sip:${proxy} SIP/2.0`,
      `Via: SIP/2.0/UDP ${address}:${port};branch=z9hG4bK-reg-${this.callId}-${this.cseq};rport`,
      'Max-Forwards: 70',
      `From: <sip:${user}@${proxy}>;tag=reg-${this.cseq}`,
      `To: <sip:${user}@${proxy}>`,
      `Call-ID: ${this.callId}@${address}`,
      `CSeq: ${this.cseq} REGISTER`,
      ...ownContact,
      'User-Agent: Zoiper rv2.10',
      ...extra,
    ]);
  }

  async send(text: string): Promise<string | undefined> {
    this.peer.send(text, this.proxy);
    const seq = /CSeq: (\d+)/.exec(text)?.[1];
    return this.peer.receive(new RegExp(`CSeq: ${seq} REGISTER`), 2000);
  }

  authorization(user: string, password: string, challenge: Challenge): string {
    return registerAuthorization(user, password, challenge, `sip:${hostText(this.proxy.address)}`);
  }

  /** The whole exchange: REGISTER, 401, REGISTER with credentials for the challenge of `algorithm`. */
  async register(
    user: string,
    password: string,
    extra: readonly string[] = [],
    algorithm = 'MD5',
  ): Promise<string | undefined> {
    const challenge = challengesOf(await this.send(this.request(user))).find((c) => c.algorithm === algorithm);
    if (!challenge) throw new Error(`no ${algorithm} challenge`);
    return this.send(this.request(user, [this.authorization(user, password, challenge), ...extra]));
  }
}

/**
 * A phone's whole REGISTER exchange (401, then credentials for its MD5 challenge) over its connection
 * (`transport` tcp, tls, ws or wss) from `from`, its Contact that connection's address; the final answer.
 */
export async function registerOverConnection(
  peer: Pick<TcpPeer, 'send' | 'receive' | 'localPort'>,
  from: string,
  proxyAddress: string,
  transport: 'tcp' | 'tls' | 'ws' | 'wss',
  user: string,
  password: string,
  contactParams = '',
): Promise<string | undefined> {
  const callId = `reg-${transport}-${user}-${peer.localPort}@${from}`;
  const register = (cseq: number, extra: readonly string[]) =>
    sipRequest([
      `REGISTER sip:${proxyAddress} SIP/2.0`,
      `Via: SIP/2.0/${transport.toUpperCase()} ${from}:${peer.localPort};branch=z9hG4bK-${callId.replace(/[@.]/g, '-')}-${cseq}`,
      'Max-Forwards: 70',
      `From: <sip:${user}@${proxyAddress}>;tag=reg-${cseq}`,
      `To: <sip:${user}@${proxyAddress}>`,
      `Call-ID: ${callId}`,
      `CSeq: ${cseq} REGISTER`,
      `Contact: <sip:${user}@${from}:${peer.localPort};transport=${transport}>${contactParams}`,
      'Expires: 300',
      ...extra,
    ]);
  peer.send(register(1, []));
  const challenge = challengesOf(await peer.receive(/^CSeq: 1 REGISTER/m)).find((c) => c.algorithm === 'MD5');
  if (!challenge) throw new Error(`no MD5 challenge to ${user}'s REGISTER over ${transport}`);
  peer.send(register(2, [registerAuthorization(user, password, challenge, `sip:${proxyAddress}`)]));
  return peer.receive(/^CSeq: 2 REGISTER/m);
}
